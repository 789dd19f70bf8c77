/**
 * A worker's claim on a shared cache key (src/cache/claims.ts) has its job lock's lease
 * (src/queue/fleet.ts): a killed worker's job runs again once its lock expires, and the
 * re-run must not then wait out a longer claim. Checked on the claim itself, in Redis,
 * while a worker (in process, lock 2 s) is in its provider call.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLAIM_LEASE_MS } from '../../src/cache/claims.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { REDIS_URL, startTestService, type TestService } from '../support/service.js';
import { until } from '../support/worker-fleet.js';

const LOCK_MS = 2000;

let sim: Simulator;
let svc: TestService;
let redis: Redis;

beforeAll(async () => {
  // Slow answers: the claim is there to be read while the call runs.
  sim = await startSimulator({ latency: { minMs: 1500, maxMs: 1500 }, answer: () => ({ total: 1 }) });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    lockDurationMs: LOCK_MS,
    stalledIntervalMs: 1000,
    webhooks: false,
  });
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  redis?.disconnect();
  await svc?.close();
  await sim?.close();
});

/** The first Redis key under `prefix` (SCAN, not KEYS: the server is shared). */
async function claimKey(prefix: string): Promise<string | undefined> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys[0]) return keys[0];
    cursor = next;
  } while (cursor !== '0');
  return undefined;
}

describe('the cache claim lease of a worker', () => {
  it('is its lock duration, not the 30 s default', async () => {
    const key = await svc.key();
    const pattern = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
      key,
      json: { name: 'Total', instructions: 'Read it', json_schema: { total: 'number' } },
    });
    const ingested = await call<{ data: { job_id: string } }>(
      svc.api,
      'POST',
      `/patterns/${pattern.body.data.id}/ingest`,
      { key, form: imageForm(await distinctJpeg(41)) },
    );
    expect(ingested.status, ingested.text).toBe(202);
    const claim = await until('the worker to claim the image', () => claimKey(`${svc.prefix}:cache:claim:`));
    const leftMs = await redis.pttl(claim);
    expect(leftMs).toBeGreaterThan(0);
    expect(leftMs).toBeLessThanOrEqual(LOCK_MS);
    expect(LOCK_MS).toBeLessThan(DEFAULT_CLAIM_LEASE_MS);
    const job = await waitForJob(svc.api, key, ingested.body.data.job_id);
    expect(job.status).toBe('succeeded');
  });
});
