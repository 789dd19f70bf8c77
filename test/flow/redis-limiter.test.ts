/**
 * The Redis limiter against real Redis: the shared server on 127.0.0.1:6379 (a unique
 * key prefix per test), real child processes sharing one limit, and a redis-server of
 * the test's own that is killed and restarted under a running limiter.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GrantEvent } from '../../src/flow/limiter.js';
import { RedisLimiter, type RedisLimiterOptions } from '../../src/flow/redis-limiter.js';
import { loadScript, SCRIPT_NAMES, scriptCandidates } from '../../src/flow/redis-scripts.js';
import { maxInWindow } from './fixtures/sliding-window.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const URL_6379 = 'redis://127.0.0.1:6379/0';
const HAS_REDIS_SERVER = spawnSync('redis-server', ['--version']).error === undefined;

let admin: Redis;
const prefixes: string[] = [];
const limiters: RedisLimiter[] = [];

function uniquePrefix(): string {
  const prefix = `visionpipe-test:${randomUUID()}`;
  prefixes.push(prefix);
  return prefix;
}

function limiter(options: Partial<RedisLimiterOptions> = {}) {
  const grants: GrantEvent[] = [];
  const warnings: string[] = [];
  const instance = new RedisLimiter({
    url: URL_6379,
    prefix: options.prefix ?? uniquePrefix(),
    onWarning: (message) => warnings.push(message),
    onGrant: (grant) => grants.push(grant),
    ...options,
  });
  limiters.push(instance);
  return { limiter: instance, grants, warnings };
}

beforeAll(async () => {
  admin = new Redis(URL_6379, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(limiters.splice(0).map((l) => l.close()));
});

afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
  }
  await admin.quit();
});

describe('Lua scripts on disk', () => {
  it('are found from src/flow (tests, tsx) and from dist/flow (the build) alike', () => {
    for (const name of SCRIPT_NAMES) {
      expect(loadScript(name)).toContain('redis.call');
      const fromDist = scriptCandidates(name, new URL('../../dist/flow/redis-scripts.js', import.meta.url));
      expect(fromDist.some((candidate) => existsSync(candidate))).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('src/flow/lua');
  });
});

describe('RedisLimiter', () => {
  it('paces on Redis server time and grants in arrival order', async () => {
    const { limiter: l, grants } = limiter({ rpm: 10, intervalMs: 1000, burstMs: 100 });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 6 }, (_, i) => l.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(grants.every((grant) => grant.backend === 'redis')).toBe(true);
    // capacity 1, then 9 per second: ≥ 111 ms apart on the server clock
    const at = grants.map((grant) => grant.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThan(110);
    expect(maxInWindow(at, 1000)).toBeLessThanOrEqual(10);
  });

  it('lets a call costing more tokens than the bucket pass, in order', async () => {
    // 1200 tokens/s: the bucket holds 120, refilling ~1.08 per ms
    const { limiter: l, grants } = limiter({ tpm: 1200, intervalMs: 1000, burstMs: 100 });
    const order: string[] = [];
    await Promise.all([
      l.acquire({ tokens: 50 }).then(() => order.push('small-1')),
      l.acquire({ tokens: 400 }).then(() => order.push('big')),
      l.acquire({ tokens: 50 }).then(() => order.push('small-2')),
    ]);
    expect(order).toEqual(['small-1', 'big', 'small-2']);
    // the big call borrowed ~280 tokens: the next one waits for them to refill
    expect(grants[2]!.at - grants[1]!.at).toBeGreaterThan(200);
  });

  it("shares pauses: one limiter's 429 holds every limiter on the same key", async () => {
    const prefix = uniquePrefix();
    const a = limiter({ prefix, rpm: 6000, intervalMs: 60_000 });
    const b = limiter({ prefix, rpm: 6000, intervalMs: 60_000 });
    await a.limiter.acquire();
    await b.limiter.acquire();
    a.limiter.observe({ retryAfterMs: 1000 });
    // the pause travels through Redis, not through this process
    await until(async () => (await admin.pttl(`${prefix}:{default}:paused`)) > 0);
    const remaining = await admin.pttl(`${prefix}:{default}:paused`);
    await b.limiter.acquire();
    // the key lives 1 s past the pause's end
    expect(b.grants[1]!.waitedMs).toBeGreaterThan(remaining - 1000 - 100);
    expect(b.grants[1]!.waitedMs).toBeGreaterThan(300);
  });

  it('rejects aborted waiters, queued or holding a slot, and close() rejects the rest', async () => {
    const { limiter: l } = limiter({ rpm: 4, intervalMs: 1000, burstMs: 100 });
    await l.acquire();
    const held = new AbortController();
    const holding = expect(l.acquire({}, held.signal)).rejects.toThrow('held aborted'); // reserves a slot ~333 ms ahead
    const queued = new AbortController();
    const waiting = expect(l.acquire({}, queued.signal)).rejects.toThrow('queued aborted');
    const last = expect(l.acquire()).rejects.toMatchObject({ code: 'ABORTED' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    held.abort(new Error('held aborted'));
    queued.abort(new Error('queued aborted'));
    await holding;
    await waiting;
    await l.close();
    await last;
  });

  it('two processes sharing one limit never exceed it in any window', async () => {
    const prefix = uniquePrefix();
    const [rpm, intervalMs, burstMs, durationMs] = [40, 2000, 200, 3000];
    const fixture = path.join(ROOT, 'test/flow/fixtures/redis-grants.ts');
    const args = [URL_6379, prefix, ...[rpm, intervalMs, burstMs, durationMs, 6].map(String)];
    const [first, second] = [startChild(fixture, args), startChild(fixture, args)];
    // Start both together once both have loaded, however slow the machine is.
    await Promise.all([first.ready, second.ready]);
    first.go();
    second.go();
    const [one, two] = await Promise.all([first.result, second.result]);
    expect(one.backends).toEqual(['redis']);
    expect(two.backends).toEqual(['redis']);
    const all = [...one.grants, ...two.grants];
    // The guarantee: no window of intervalMs holds more than the limit (server-clock grant times).
    expect(maxInWindow(all, intervalMs)).toBeLessThanOrEqual(rpm);
    // And the pair uses the limit: capacity 4 + 18/s over 3 s ≈ 58; allow a slow start on a busy machine.
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(all.length).toBeLessThanOrEqual(60);
    // Both got a share (it is a race per slot, not strict turns).
    expect(Math.min(one.grants.length, two.grants.length)).toBeGreaterThanOrEqual(all.length / 6);
  }, 40_000);

  it('falls back to memory when Redis is unreachable, warns once, and keeps granting', async () => {
    const port = await freePort();
    const {
      limiter: l,
      grants,
      warnings,
    } = limiter({ url: `redis://127.0.0.1:${port}`, rpm: 600, intervalMs: 1000 });
    for (let i = 0; i < 5; i++) await l.acquire();
    expect(grants.map((grant) => grant.backend)).toEqual(Array(5).fill('memory'));
    expect(l.backend).toBe('memory');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*unavailable`));
  });

  it('rejects a URL that is not redis:// by name, without its password', () => {
    expect(() => new RedisLimiter({ url: 'http://user:secret@host:1' })).toThrow(/limiter must be/);
    expect(() => new RedisLimiter({ url: 'http://user:secret@host:1' })).not.toThrow(/secret/);
  });
});

describe.skipIf(!HAS_REDIS_SERVER)('RedisLimiter with a Redis that goes away and comes back', () => {
  let server: ChildProcess | undefined;
  afterEach(() => {
    server?.kill('SIGKILL');
    server = undefined;
  });

  it('keeps granting from memory while Redis is down and returns to Redis when it is back', async () => {
    const port = await freePort();
    server = await startRedisServer(port);
    const {
      limiter: l,
      grants,
      warnings,
    } = limiter({
      url: `redis://127.0.0.1:${port}`,
      rpm: 100,
      intervalMs: 1000,
      burstMs: 50,
    });
    const stop = new AbortController();
    const loop = (async () => {
      while (!stop.signal.aborted) await l.acquire({}, stop.signal).catch(() => {});
    })();

    await until(() => grants.filter((g) => g.backend === 'redis').length >= 10);
    server.kill('SIGKILL');
    await new Promise((resolve) => server?.once('exit', resolve));
    const downAt = grants.length;
    await until(() => grants.slice(downAt).filter((g) => g.backend === 'memory').length >= 10);
    expect(warnings).toHaveLength(1);

    server = await startRedisServer(port);
    const upAt = grants.length;
    await until(() => grants.slice(upAt).filter((g) => g.backend === 'redis').length >= 10, 10_000);
    expect(l.backend).toBe('redis');
    stop.abort();
    await loop;
  }, 30_000);
});

if (!HAS_REDIS_SERVER) {
  it.skip('redis-server is not on PATH: the outage-and-recovery test needs its own server to kill', () => {});
}

interface GrantsChild {
  ready: Promise<void>;
  go(): void;
  result: Promise<{ grants: number[]; backends: string[] }>;
}

function startChild(fixture: string, args: string[]): GrantsChild {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], {
    cwd: ROOT,
    timeout: 30_000,
  });
  let stdout = '';
  let stderr = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const result = new Promise<{ grants: number[]; backends: string[] }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      markReady();
      if (code !== 0) reject(new Error(`fixture exited with ${code}\n${stderr}`));
      else resolve(JSON.parse(stdout.slice('ready\n'.length).trim()));
    });
  });
  return { ready, go: () => child.stdin.write('go\n'), result };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  try {
    await until(async () => (await probe.ping().catch(() => '')) === 'PONG', 10_000);
  } finally {
    probe.disconnect();
  }
  return child;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
