/**
 * Redis going away under a running service (a private redis-server this test stops and
 * starts): health says degraded but lives, readiness says no, ingests are refused at once
 * with 503 (nothing half-accepted: the same idempotency key works once Redis is back),
 * reads from PostgreSQL keep working; when Redis returns, workers take jobs again.
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

beforeAll(async () => {
  const started = await startRedis();
  if (!started) throw new Error('redis-server is not installed (.ci/run installs it)');
  redis = started;
  sim = await startSimulator({
    latency: { minMs: 50, maxMs: 50 },
    answer: () => ({ merchant: 'A', total: 1 }),
  });
  svc = await startTestService({
    redisUrl: redis.url,
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    rateLimit: { limit: 1000, intervalMs: 60_000 },
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

const ingest = async (seed: number, idempotencyKey: string) =>
  call<{ data: { job_id: string } }>(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
    key,
    form: imageForm(await distinctJpeg(seed)),
    headers: { 'Idempotency-Key': idempotencyKey },
  });

it('degrades, refuses ingests cleanly while Redis is away, and recovers when it is back', async () => {
  const before = await ingest(1, 'before');
  expect((await waitForJob(svc.api, key, before.body.data.job_id)).status).toBe('succeeded');

  await redis.stop();
  const health = await call(svc.url, 'GET', '/_health');
  expect(health.status).toBe(200);
  expect(health.body).toMatchObject({ status: 'degraded', services: { database: 'up', queue: 'down' } });
  expect((await call(svc.url, 'GET', '/_ready')).status).toBe(503);

  const refused = await ingest(2, 'during');
  expect(refused.status).toBe(503);
  expect(refused.body).toMatchObject({ success: false, error: { code: 'service_unavailable' } });
  // Reads do not need Redis (the rate limit fails open).
  const read = await call(svc.api, 'GET', `/jobs/${before.body.data.job_id}`, { key });
  expect(read.status).toBe(200);

  await redis.start();
  const deadline = Date.now() + 30_000;
  while ((await call(svc.url, 'GET', '/_ready')).status !== 200 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 200));
  const retried = await ingest(2, 'during');
  expect(retried.status).toBe(202);
  expect((await waitForJob(svc.api, key, retried.body.data.job_id)).status).toBe('succeeded');
});
