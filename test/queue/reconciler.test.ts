/**
 * Work that Redis lost (its queue keys deleted, as a restart without persistence does)
 * while PostgreSQL says it is open is queued again, and then completes; young work and
 * work still in the queue are left alone.
 */

import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/queue/connection.js';
import { IngestQueue } from '../../src/queue/ingest-queue.js';
import { requeueLostWork } from '../../src/queue/reconciler.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { clearRedisPrefix, startTestService, type TestService } from '../support/service.js';

let sim: Simulator;
let api: TestService;
let redis: Redis;
let queue: IngestQueue;

beforeAll(async () => {
  sim = await startSimulator({ latency: { minMs: 20, maxMs: 20 }, answer: () => ({ total: 1 }) });
  api = await startTestService({ workers: 0, reconcile: false, webhooks: false });
  redis = await connectRedis('redis://127.0.0.1:6379');
  queue = new IngestQueue(redis, { prefix: api.prefix });
});

afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await api?.close();
  await sim?.close();
});

/** A new pattern named `name` and one ingest of image `seed` into it (workers: none). */
async function ingestOne(name: string, seed: number): Promise<{ key: string; jobId: string }> {
  const key = await api.key(['admin:all']);
  const pattern = await call<{ data: { id: string } }>(api.api, 'POST', '/patterns', {
    key,
    json: { name, instructions: 'Read', json_schema: { total: 'number' } },
  });
  const ingest = await call<{ data: { job_id: string } }>(
    api.api,
    'POST',
    `/patterns/${pattern.body.data.id}/ingest`,
    { key, form: imageForm(await distinctJpeg(seed)) },
  );
  return { key, jobId: ingest.body.data.job_id };
}

describe('re-queueing work Redis lost', () => {
  it('queues open work that has no queue job, once; the job then completes', async () => {
    const { key, jobId } = await ingestOne('R', 9);
    const job = await api.store.jobs.get(jobId);
    expect(await queue.queue.getJob(job!.work_key)).toBeDefined();
    expect(await requeueLostWork(api.store, queue, { graceMs: 0, batch: 10 })).toEqual([]);

    await clearRedisPrefix(`${api.prefix}:ingest`);
    expect(await queue.queue.getJob(job!.work_key)).toBeUndefined();
    expect(await requeueLostWork(api.store, queue, { graceMs: 60_000, batch: 10 })).toEqual([]);
    expect(await requeueLostWork(api.store, queue, { graceMs: 0, batch: 10 })).toEqual([job!.work_key]);
    expect(await requeueLostWork(api.store, queue, { graceMs: 0, batch: 10 })).toEqual([]);

    const workers = await startTestService({
      provider: 'openai',
      providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
      shared: { database: api.database, prefix: api.prefix },
      webhooks: false,
    });
    try {
      expect((await waitForJob(api.api, key, jobId, 30_000)).status).toBe('succeeded');
    } finally {
      await workers.close();
    }
  });

  it("takes only its own prefix's work: another prefix's reconciler leaves it alone", async () => {
    const { jobId } = await ingestOne('P', 19);
    const job = await api.store.jobs.get(jobId);
    expect(job?.queue_prefix).toBe(api.prefix);
    await clearRedisPrefix(`${api.prefix}:ingest`);

    const other = new IngestQueue(redis, { prefix: `${api.prefix}-other` });
    try {
      expect(await requeueLostWork(api.store, other, { graceMs: 0, batch: 10 })).toEqual([]);
      expect(await other.queue.getJob(job!.work_key)).toBeUndefined();
    } finally {
      await other.close();
      await clearRedisPrefix(`${api.prefix}-other:ingest`);
    }
    expect(await requeueLostWork(api.store, queue, { graceMs: 0, batch: 10 })).toEqual([job!.work_key]);
    expect(await queue.queue.getJob(job!.work_key)).toBeDefined();
  });
});
