/**
 * Chaos: Redis (a private redis-server without persistence) killed and restarted empty
 * while 30 jobs run and wait, then 10 more ingested (retried while refused). Every job
 * completes — the ones whose queue jobs Redis lost are queued again from PostgreSQL —
 * and the provider simulator bills each distinct image exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startTestService, type TestService } from '../support/service.js';

let redis: TestRedis;
let sim: Simulator;
let svc: TestService;
let key: string;
let patternId: string;
const billedImages = new Map<string, number>();

beforeAll(async () => {
  const started = await startRedis();
  if (!started) throw new Error('redis-server is not installed (.ci/run installs it)');
  redis = started;
  sim = await startSimulator({
    latency: { minMs: 200, maxMs: 600 },
    answer: () => ({ merchant: 'A', total: 1 }),
    onBilled: (event) => {
      billedImages.set(event.sha256, (billedImages.get(event.sha256) ?? 0) + 1);
    },
  });
  svc = await startTestService({
    redisUrl: redis.url,
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    workers: 2,
    concurrency: 3,
    lockDurationMs: 2000,
    stalledIntervalMs: 1000,
    reconcile: { intervalMs: 500, graceMs: 1500 },
    webhooks: false,
  });
  key = await svc.key();
  const pattern = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
    key,
    json: { name: 'Receipt', instructions: 'Read it', json_schema: { merchant: 'string', total: 'number' } },
  });
  patternId = pattern.body.data.id;
});

afterAll(async () => {
  await redis?.start().catch(() => {});
  await svc?.close();
  await sim?.close();
  await redis?.stop();
});

/** Ingests, retrying while the queue is unreachable (503: nothing was accepted). */
async function ingest(seed: number): Promise<string> {
  const image = await distinctJpeg(seed);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await call<{ data: { job_id: string } }>(
      svc.api,
      'POST',
      `/patterns/${patternId}/ingest`,
      {
        key,
        form: imageForm(image),
        headers: { 'Idempotency-Key': `seed-${seed}` },
      },
    );
    if (answer.status === 202 || answer.status === 200) return answer.body.data.job_id;
    if (answer.status !== 503 || Date.now() > deadline) throw new Error(`ingest ${seed}: ${answer.text}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('Redis restarted empty under load: no job lost, none paid twice', { timeout: 120_000 }, async () => {
  const first = await Promise.all(Array.from({ length: 30 }, (_, i) => ingest(1000 + i)));
  // Let some finish, some run, most wait; then Redis dies and comes back with nothing.
  const deadline = Date.now() + 30_000;
  while ((await svc.store.jobs.list({ page: 1, perPage: 1, status: 'succeeded' })).total < 5) {
    if (Date.now() > deadline) throw new Error('nothing finished');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await redis.stop();
  const late = Promise.all(Array.from({ length: 10 }, (_, i) => ingest(2000 + i)));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await redis.start();
  const ids = [...first, ...(await late)];
  const jobs = await Promise.all(ids.map((id) => waitForJob(svc.api, key, id, 90_000)));
  expect(jobs.filter((j) => j.status !== 'succeeded')).toEqual([]);
  const paid = jobs.filter((j) => j.cache === 'miss').length;
  expect(billedImages.size).toBe(40);
  expect([...billedImages.values()].filter((n) => n > 1)).toEqual([]);
  expect(paid).toBe(40);
  expect(svc.logs.some((line) => /re-queued \d+ job\(s\) that Redis had lost/.test(line))).toBe(true);
});
