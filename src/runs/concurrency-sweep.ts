/**
 * "Find the optimal concurrency", done by the tool: the same inputs at several window
 * sizes, each with a fresh in-memory cache so nothing is served from an earlier level,
 * measuring throughput, p95 latency, 429s and failures. The best level is the fastest,
 * or the smallest within 5 % of it (more concurrency for nothing only invites 429s).
 */
import { openCache } from '../cache/open-cache.js';
import { VisionpipeError } from '../errors.js';
import { LatencyHistogram } from '../metrics/latency.js';
import { createPipeline, type PipelineOptions } from '../pipeline/create-pipeline.js';
import type { InputItem } from './inputs.js';
import { runBatch } from './run.js';

export interface LevelResult {
  concurrency: number;
  images: number;
  ok: number;
  errors: number;
  wall_s: number;
  images_per_s: number;
  p95_ms: number;
  /** 429 answers seen, retried or not. */
  rate_limited: number;
  retries: number;
}

export interface SweepResult {
  levels: LevelResult[];
  best: number;
}

export async function sweepConcurrency(
  levels: readonly number[],
  inputs: () => AsyncIterable<InputItem>,
  pipelineOptions: Omit<PipelineOptions, 'cache' | 'retry'>,
  onLevel?: (result: LevelResult) => void,
): Promise<SweepResult> {
  const results: LevelResult[] = [];
  for (const concurrency of levels) {
    let rateLimited = 0;
    let retries = 0;
    const cache = await openCache({ spec: 'off' });
    const pipeline = await createPipeline({
      ...pipelineOptions,
      cache,
      retry: {
        onRetry: ({ error }) => {
          retries++;
          if (error instanceof VisionpipeError && error.code === 'RATE_LIMITED') rateLimited++;
        },
      },
    });
    const latency = new LatencyHistogram();
    let images = 0;
    let ok = 0;
    const started = performance.now();
    for await (const { record } of runBatch(inputs(), pipeline, { concurrency })) {
      images++;
      if (record.status === 'ok') ok++;
      if (record.error?.code === 'RATE_LIMITED') rateLimited++;
      if (record.attempts > 0) latency.record(record.latency_ms);
    }
    const wallS = (performance.now() - started) / 1000;
    await pipeline.close();
    await cache.close();
    const result: LevelResult = {
      concurrency,
      images,
      ok,
      errors: images - ok,
      wall_s: Math.round(wallS * 100) / 100,
      images_per_s: Math.round((images / wallS) * 100) / 100,
      p95_ms: latency.percentiles().p95,
      rate_limited: rateLimited,
      retries,
    };
    results.push(result);
    onLevel?.(result);
  }
  const fastest = Math.max(...results.map((r) => r.images_per_s));
  const best = results
    .filter((r) => r.images_per_s >= fastest * 0.95)
    .sort((a, b) => a.concurrency - b.concurrency)[0];
  return { levels: results, best: best?.concurrency ?? levels[0] ?? 1 };
}
