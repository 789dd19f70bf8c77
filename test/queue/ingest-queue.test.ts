/**
 * The ingest queue on a real Redis: the work key is the BullMQ job id, so duplicate adds
 * from any number of API processes leave one queue job; a finished one is gone, so the
 * work can be queued again (the worker then finds the stored result).
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { INGEST_QUEUE, type IngestJobData, IngestQueue } from '../../src/queue/ingest-queue.js';
import { workKeyOf } from '../../src/queue/work-key.js';
import { clearRedisPrefix, REDIS_URL } from '../support/service.js';

const prefix = `vpq-${process.pid}-${randomUUID().slice(0, 8)}`;
let redis: Redis;
let queues: IngestQueue[];

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  // Three "API processes", each with its own queue client.
  queues = [1, 2, 3].map(() => new IngestQueue(redis.duplicate(), { prefix }));
});

afterAll(async () => {
  for (const q of queues) await q.close();
  redis.disconnect();
  await clearRedisPrefix(prefix);
});

const data = (sha: string): IngestJobData => ({
  workKey: workKeyOf(sha, '8f14e45f-ceea-467f-a8f3-5f5a8f0b7f1e', 'f'.repeat(64)),
  leaderJobId: randomUUID(),
  patternId: '8f14e45f-ceea-467f-a8f3-5f5a8f0b7f1e',
  patternVersion: 1,
  imageSha256: sha,
  label: 'upload:x.jpg',
});

it('work keys are stable, distinct per image, pattern and version, and valid BullMQ ids', () => {
  const a = workKeyOf('a'.repeat(64), 'p1', 'f1');
  expect(a).toBe(workKeyOf('a'.repeat(64), 'p1', 'f1'));
  expect(
    new Set([
      a,
      workKeyOf('b'.repeat(64), 'p1', 'f1'),
      workKeyOf('a'.repeat(64), 'p2', 'f1'),
      workKeyOf('a'.repeat(64), 'p1', 'f2'),
    ]).size,
  ).toBe(4);
  expect(a).toMatch(/^w-[0-9a-f]{40}$/);
});

it('20 concurrent adds of one work from three processes leave one queue job; another work is another job', async () => {
  const one = data('1'.repeat(64));
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => queues[i % 3]!.add({ ...one, leaderJobId: randomUUID() })),
  );
  await queues[0]!.add(data('2'.repeat(64)));
  expect(await queues[0]!.depth()).toEqual({ waiting: 2, active: 0, delayed: 0 });
});

it('a finished queue job is removed, so the same work can be queued again', async () => {
  const seen: string[] = [];
  const worker = new Worker<IngestJobData>(
    INGEST_QUEUE,
    async (job) => {
      seen.push(job.id!);
      return 'ok';
    },
    { connection: redis.duplicate(), prefix },
  );
  const deadline = Date.now() + 20_000;
  while ((await queues[0]!.depth()).waiting > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200));
  expect(seen).toHaveLength(2);
  await queues[1]!.add(data('1'.repeat(64)));
  while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(seen).toHaveLength(3);
  expect(await queues[0]!.workers()).toBe(1);
  await worker.close();
});
