/**
 * One of bench/flow.ts's three processes on one budget: its third of the images, summary
 * on stdout as JSON. `<store>` is a Redis URL (the pipeline with a Redis limiter and no
 * limit configured: learned limits shared), `none` (the pipeline alone: each process
 * learns by itself) or `sdk` (the official openai SDK with its retries + p-limit).
 *
 *   tsx bench/flow-worker.ts <baseUrl> <store> <limiterName> <k of 3> <valid images>
 */

import { writeFileSync } from 'node:fs';
import OpenAI from 'openai';
import pLimit from 'p-limit';
import { openCache } from '../src/cache/open-cache.js';
import { AdaptiveFlow } from '../src/flow/adaptive.js';
import { createLimiter } from '../src/flow/create-limiter.js';
import { mapWindow } from '../src/flow/window.js';
import { createPipeline } from '../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../src/providers/http.js';
import { OpenAIProvider } from '../src/providers/openai.js';
import { BENCH_PATTERN, benchImages } from './throughput-fixtures.js';

const [baseUrl, redisUrl, name, k, count] = process.argv.slice(2);
const images = (await benchImages(Number(count), 101)).filter((_, i) => i % 3 === Number(k));
if (redisUrl === 'sdk') {
  const client = new OpenAI({ apiKey: 'sim', baseURL: baseUrl! });
  const limit = pLimit(20);
  const results = await Promise.all(
    images.map((data) =>
      limit(async () => {
        const started = performance.now();
        try {
          const completion = await client.chat.completions.create({
            model: 'gpt-4o-mini',
            messages: [
              {
                role: 'user',
                content: [
                  {
                    type: 'image_url',
                    image_url: { url: `data:image/jpeg;base64,${data.toString('base64')}` },
                  },
                  { type: 'text', text: 'Extract.' },
                ],
              },
            ],
          });
          // An answer at all is a success here (no response_format was asked for).
          return { ok: completion.choices.length > 0, ms: performance.now() - started, at: Date.now() };
        } catch {
          return { ok: false, ms: performance.now() - started, at: Date.now() };
        }
      }),
    ),
  );
  process.stdout.write(
    JSON.stringify({
      ok: results.filter((r) => r.ok).length,
      valid: images.length,
      ms: results.map((r) => r.ms),
      lastOkAt: Math.max(0, ...results.filter((r) => r.ok).map((r) => r.at)),
    }),
  );
  process.exit(0);
}
const limiter = redisUrl === 'none' ? undefined : createLimiter(redisUrl, { name });
const provider = new OpenAIProvider({ apiKey: 'sim', baseUrl: baseUrl! });
const cache = await openCache({ spec: 'off' });
// Traced, the worker's start-up too: the process's start and when its images were ready.
const trace: unknown[] = [
  { t: Math.round(performance.timeOrigin), k: Number(k), ev: 'start' },
  { t: Date.now(), k: Number(k), ev: 'ready' },
];
const tracePath = process.env.VISIONPIPE_FLOW_TRACE;
const share = limiter?.flowShare;
const pipeline = await createPipeline({
  pattern: BENCH_PATTERN,
  provider,
  model: 'gpt-4o-mini',
  cache,
  ...(limiter ? { limiter } : {}),
  ...(tracePath
    ? {
        flow: () => {
          const flow = new AdaptiveFlow({
            maxConcurrency: 1024,
            peers: () => share?.read()?.peers ?? limiter?.peers ?? 1,
            ...(share ? { share } : {}),
          });
          const note = (ev: string) => {
            const s = flow.state;
            const r = share?.read();
            trace.push({
              t: Date.now(),
              k: Number(k),
              ev,
              rate: s.rate,
              conc: s.concurrency,
              inFlight: s.inFlight,
              paused: s.pausedUntil,
              cuts: s.sharedCuts,
              ver: r?.version,
              srate: r?.rate,
              peers: r?.peers,
            });
          };
          const admit = flow.admit.bind(flow);
          flow.admit = async (signal) => {
            const slot = await admit(signal);
            note('send');
            const done = slot.done.bind(slot);
            slot.done = (outcome) => {
              done(outcome);
              note(outcome.kind);
            };
            return slot;
          };
          return flow;
        },
      }
    : {}),
});
let ok = 0;
let lastOkAt = 0;
const ms: number[] = [];
for await (const record of mapWindow(images, 20, (data, i) =>
  pipeline.process(data, { label: `w${k}-${i}` }),
)) {
  if (record.status === 'ok') {
    ok++;
    lastOkAt = Date.now();
  }
  ms.push(record.latency_ms);
}
await pipeline.close();
if (tracePath) writeFileSync(`${tracePath}-${k}.json`, JSON.stringify(trace));
await cache.close();
await limiter?.close();
await closeAllAgents();
process.stdout.write(JSON.stringify({ ok, valid: images.length, ms, lastOkAt }));
