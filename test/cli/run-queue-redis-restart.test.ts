/**
 * Chaos: Redis (a private redis-server without persistence) killed and restarted empty
 * while a `visionpipe run … --queue` coordinator (a real process) has images queued,
 * running and finished on the workers (in-process here, with the re-queueing of lost
 * work scaled down to a second). The coordinator waits in PostgreSQL, so the restart
 * only delays it: it exits 0 with one `ok` record per image, and the provider simulator
 * bills every image exactly once.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { distinctJpeg } from '../support/api-client.js';
import { tempDir } from '../support/images.js';
import { startCli } from '../support/processes.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startTestService, type TestService } from '../support/service.js';

const IMAGES = 16;

let redis: TestRedis;
let sim: Simulator;
let svc: TestService;
const billed = new Map<string, number>();

beforeAll(async () => {
  const started = await startRedis();
  if (!started) throw new Error('redis-server is not installed (.ci/run installs it)');
  redis = started;
  sim = await startSimulator({
    latency: { minMs: 300, maxMs: 300 },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
    onBilled: (event) => billed.set(event.sha256, (billed.get(event.sha256) ?? 0) + 1),
  });
  svc = await startTestService({
    redisUrl: redis.url,
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    workers: 2,
    concurrency: 2,
    lockDurationMs: 2000,
    stalledIntervalMs: 1000,
    reconcile: { intervalMs: 500, graceMs: 1500 },
    webhooks: false,
  });
});

afterAll(async () => {
  await redis?.start().catch(() => {});
  await svc?.close();
  await sim?.close();
  await redis?.stop();
});

const lines = (file: string) =>
  readFile(file, 'utf8').then(
    (text) => text.split('\n').filter(Boolean),
    () => [] as string[],
  );

it('run --queue: Redis restarted empty mid-run; every image once, each paid once', {
  timeout: 120_000,
}, async () => {
  const dir = await tempDir('rq-redis-images');
  for (let i = 0; i < IMAGES; i++)
    await writeFile(path.join(dir, `img-${i}.jpg`), await distinctJpeg(7000 + i));
  const patternFile = path.join(dir, 'receipt.json');
  await writeFile(
    patternFile,
    JSON.stringify({
      name: 'Receipt',
      format: 'json',
      instructions: 'Read it',
      json_schema: { merchant: 'string', total: 'number' },
    }),
  );
  const state = await tempDir('rq-redis-state');
  const out = path.join(state, 'results.jsonl');
  const coordinator = startCli(
    [
      'run',
      ...Array.from({ length: IMAGES }, (_, i) => path.join(dir, `img-${i}.jpg`)),
      '-p',
      patternFile,
      '--queue',
      redis.url,
      '--out',
      out,
      '--state-dir',
      state,
      '--concurrency',
      String(IMAGES),
      '--no-progress',
      '--json',
    ],
    { DATABASE_URL: svc.database.url, VISIONPIPE_QUEUE_PREFIX: svc.prefix },
  );
  // Some records written, the rest queued or running: then Redis dies and comes back empty.
  const deadline = Date.now() + 60_000;
  while ((await lines(out)).length < 2) {
    if (Date.now() > deadline || coordinator.child.exitCode !== null)
      throw new Error(`no records: ${coordinator.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await redis.stop();
  // The restart is mid-run: images were still queued or running when Redis went.
  expect((await lines(out)).length).toBeLessThan(IMAGES);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await redis.start();

  // Bounded: a coordinator still waiting after 90 s is killed (and the test fails on its code).
  const cutoff = setTimeout(() => coordinator.child.kill('SIGKILL'), 90_000);
  const code = await coordinator.exited;
  clearTimeout(cutoff);
  expect(code, coordinator.stderr).toBe(0);
  const records = (await lines(out)).map(
    (l) => JSON.parse(l) as { input: string; status: string; sha256: string },
  );
  expect(records.map((r) => path.basename(r.input)).sort()).toEqual(
    Array.from({ length: IMAGES }, (_, i) => `img-${i}.jpg`).sort(),
  );
  expect(records.filter((r) => r.status !== 'ok')).toEqual([]);
  expect(billed.size).toBe(IMAGES);
  expect([...billed.values()].filter((n) => n > 1)).toEqual([]);
  expect(JSON.parse(coordinator.stdout)).toMatchObject({ total: IMAGES, ok: IMAGES, errors: 0 });
});
