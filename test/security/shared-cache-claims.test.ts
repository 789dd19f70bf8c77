/**
 * Two processes sharing a Redis cache pay once per content key (src/cache/claims.ts): the
 * first to miss claims the key, the other waits and reads the stored result; a claim whose
 * holder died expires after its lease and the waiter takes over. Real Redis on 127.0.0.1:6379
 * (a unique namespace per test), real processes, provider calls counted on a loopback server.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClaimStore, claimed } from '../../src/cache/claims.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { ROOT } from '../support/cli.js';
import { corpus } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';

const REDIS_URL = process.env.VISIONPIPE_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const WORKER = path.join(ROOT, 'test/support/claim-worker.ts');
const IMAGES = ['invoice1.jpg', 'vin1.jpg', 'car-plate1.jpg', 'construction1.jpg'].map(corpus);
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

interface WorkerRecord {
  input: string;
  status: string;
  cache: string;
  attempts: number;
  output: unknown;
}

function runWorker(namespace: string, stateDir: string, server: CompatibleServer): Promise<WorkerRecord[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', WORKER, REDIS_URL, namespace, stateDir, server.baseUrl, ...IMAGES],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`worker exited ${code}: ${stderr}`));
      resolve(
        stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as WorkerRecord),
      );
    });
  });
}

async function newNamespace(): Promise<string> {
  const namespace = `vp-test:claims:${randomUUID()}:`;
  cleanup.push(async () => {
    const store = new RedisStore(REDIS_URL, { namespace });
    if (await store.connect()) await store.clear();
    await store.close();
  });
  return namespace;
}

describe('shared Redis cache: cross-process claims', () => {
  it('two processes on the same images pay once per image; the other reads the stored result', async () => {
    // Slow answers keep both processes in flight at once: without claims each pays for every image.
    const server = await startCompatibleServer(() => ({ content: '{"total": 42}', delayMs: 5000 }));
    cleanup.push(() => server.close());
    const namespace = await newNamespace();
    const dirs = await Promise.all([1, 2].map(() => mkdtemp(path.join(tmpdir(), 'vp-claims-'))));
    for (const dir of dirs) cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const [first, second] = await Promise.all(dirs.map((dir) => runWorker(namespace, dir, server)));
    expect(server.calls).toHaveLength(IMAGES.length);
    const all = [...first!, ...second!];
    expect(all.every((r) => r.status === 'ok' && JSON.stringify(r.output) === '{"total":42}')).toBe(true);
    expect(all.filter((r) => r.cache === 'miss')).toHaveLength(IMAGES.length);
    expect(all.filter((r) => r.cache === 'hit')).toHaveLength(IMAGES.length);
  }, 120_000);

  it("a dead holder's claim expires after its lease and the waiter does the work", async () => {
    const namespace = await newNamespace();
    const store = new RedisStore(REDIS_URL, { namespace });
    cleanup.push(() => store.close());
    expect(await store.connect()).toBe(true);
    // A process that claimed the key and was killed: it never renews nor releases.
    expect(await store.tryClaim('k', 'dead-process', 300)).toBe(true);
    let worked = 0;
    const got = await claimed(
      store,
      'k',
      async () => undefined,
      async () => ++worked,
      { pollMs: 50 },
    );
    expect(got).toEqual({ kind: 'own', value: 1 });
    // Released after the work: the next claimant gets it at once.
    expect(await store.tryClaim('k', 'next', 1000)).toBe(true);
  });

  it('a holder renews its lease while its work runs, and only its own token releases it', async () => {
    const namespace = await newNamespace();
    const store = new RedisStore(REDIS_URL, { namespace });
    cleanup.push(() => store.close());
    expect(await store.connect()).toBe(true);
    const direct = new Redis(REDIS_URL);
    cleanup.push(async () => direct.disconnect());
    let competitorTook: boolean | undefined;
    await claimed(
      store,
      'long',
      async () => undefined,
      async () => {
        // Work lasting several leases: a competitor still finds the key held.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        competitorTook = await store.tryClaim('long', 'competitor', 1000);
      },
      { leaseMs: 1000 },
    );
    expect(competitorTook).toBe(false);
    expect(await direct.get(`${namespace}claim:long`)).toBeNull();
    // Another token's claim is neither renewed nor released.
    expect(await store.tryClaim('other', 'mine', 5000)).toBe(true);
    expect(await store.renew('other', 'theirs', 5000)).toBe(false);
    await store.release('other', 'theirs');
    expect(await direct.get(`${namespace}claim:other`)).toBe('mine');
  });

  it('without a reachable claim store the work runs unclaimed', async () => {
    const broken: ClaimStore = {
      tryClaim: () => Promise.reject(new Error('Redis down')),
      renew: () => Promise.resolve(false),
      release: () => Promise.resolve(),
    };
    expect(
      await claimed(
        broken,
        'k',
        async () => undefined,
        async () => 'done',
      ),
    ).toEqual({
      kind: 'own',
      value: 'done',
    });
  });
});
