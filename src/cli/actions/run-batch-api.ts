/**
 * `run --batch-api`: the provider's batch backend for the run, and the run's inputs sent
 * through it under a job key derived from the run's signature and results file, so the
 * same command run again finds its batch (runs/batch-api-run.ts).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { type BatchBackend, createBatchBackend } from '../../providers/batch/index.js';
import type { ProviderOptions } from '../../providers/registry.js';
import { runWithBatchApi } from '../../runs/batch-api-run.js';
import type { InputItem } from '../../runs/inputs.js';
import type { PipelineSet } from '../../runs/pipeline-set.js';
import type { ResumePlan } from '../../runs/resume.js';
import type { BatchResult } from '../../runs/run.js';
import type { Interrupt } from '../interrupt.js';

/** The batch backend of --provider (openai, anthropic), made now: another id throws INVALID_OPTION. */
export function batchBackendFor(provider: string, providerOptions: ProviderOptions): BatchBackend {
  return createBatchBackend(provider, {
    openai: { ...(providerOptions.openai ?? {}) },
    anthropic: { ...(providerOptions.anthropic ?? {}) },
  });
}

/** Sends `items` through the batch API and hands each result to `onResult` as it arrives. */
export async function runThroughBatchApi(
  items: AsyncIterable<InputItem>,
  options: {
    backend: BatchBackend;
    pipelines: PipelineSet;
    stateDir: string;
    out: string;
    concurrency: number;
    plan: ResumePlan;
    pollIntervalMs: number;
    interrupt: Interrupt;
    onStatus: (message: string) => void;
    onResult: (result: BatchResult) => Promise<void>;
  },
): Promise<void> {
  const { pipelines, plan, interrupt } = options;
  const signature = await pipelines.signature();
  await runWithBatchApi(items, {
    backend: options.backend,
    pipelineFor: (i) => pipelines.pipelineFor(i),
    stateDir: options.stateDir,
    jobKey: createHash('sha256')
      .update(JSON.stringify([signature, path.resolve(options.out)]))
      .digest('hex')
      .slice(0, 32),
    concurrency: options.concurrency,
    reuse: (candidate, sha256) => plan.reuse(candidate, sha256),
    pollIntervalMs: options.pollIntervalMs,
    stop: interrupt.stop,
    signal: interrupt.abort,
    onStatus: options.onStatus,
    onResult: options.onResult,
  });
}
