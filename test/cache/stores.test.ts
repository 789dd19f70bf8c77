import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LayeredStore } from '../../src/cache/layered-store.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { openCache } from '../../src/cache/open-cache.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { SqliteStore } from '../../src/cache/sqlite-store.js';
import type { CacheStore } from '../../src/cache/store.js';
import { tempDir } from '../support/images.js';
import { startRedis } from '../support/redis.js';

const REDIS_URL = process.env.VISIONPIPE_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const opened: CacheStore[] = [];
afterAll(async () => {
  for (const store of opened) await store.close().catch(() => {});
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stores: Record<string, () => Promise<CacheStore>> = {
  memory: async () => new MemoryStore(),
  sqlite: async () => new SqliteStore(path.join(await tempDir('visionpipe-sqlite-'), 'cache.sqlite')),
  redis: async () => {
    const store = new RedisStore(REDIS_URL, { namespace: `vp-test:${randomUUID()}:` });
    expect(await store.connect()).toBe(true);
    return store;
  },
  'memory+sqlite': async () =>
    new LayeredStore(
      new MemoryStore(),
      new SqliteStore(path.join(await tempDir('visionpipe-sqlite-'), 'cache.sqlite')),
    ),
};

for (const [name, open] of Object.entries(stores)) {
  describe(`${name} store`, () => {
    it('gets what it sets, deletes, and counts hits and misses', async () => {
      const store = await open();
      opened.push(store);
      const value = Buffer.from([0, 1, 2, 255, 0x7b]); // binary-safe
      expect(await store.get('r:a:1')).toBeUndefined();
      await store.set('r:a:1', value, 60_000);
      expect((await store.get('r:a:1'))?.equals(value)).toBe(true);
      await store.set('r:a:1', Buffer.from('second'), 60_000);
      expect((await store.get('r:a:1'))?.toString()).toBe('second');
      expect(await store.delete('r:a:1')).toBe(true);
      expect(await store.get('r:a:1')).toBeUndefined();
      const stats = await store.stats();
      expect(stats.hits).toBeGreaterThanOrEqual(2);
      expect(stats.misses).toBeGreaterThanOrEqual(2);
    });

    it('counts lookups by kind of entry: results, remembered failures, verdicts, images apart', async () => {
      const store = await open();
      opened.push(store);
      await store.set('r:p:1', Buffer.from('result'), 60_000);
      await store.get('r:p:1'); // result hit
      await store.get('r:p:2'); // result miss
      await store.get('r:p:2:failed'); // failure miss
      await store.get('t:p:1'); // verdict miss
      await store.set('i:1', Buffer.from('image'), 60_000);
      await store.get('i:1'); // image hit
      const stats = await store.stats();
      expect(stats.by_kind.result).toEqual({ hits: 1, misses: 1 });
      expect(stats.by_kind.failure).toEqual({ hits: 0, misses: 1 });
      expect(stats.by_kind.verdict).toEqual({ hits: 0, misses: 1 });
      expect(stats.by_kind.image).toEqual({ hits: 1, misses: 0 });
    });

    it("counts a claim's re-checks of a key as the one lookup: no second miss; a later hit replaces the miss", async () => {
      const store = await open();
      opened.push(store);
      expect(await store.get('r:p:claimed')).toBeUndefined(); // the lookup: one miss
      for (let i = 0; i < 3; i++) expect(await store.get('r:p:claimed', { recheck: true })).toBeUndefined();
      expect((await store.stats()).by_kind.result).toEqual({ hits: 0, misses: 1 });
      await store.set('r:p:claimed', Buffer.from('stored by the claim holder'), 60_000);
      expect((await store.get('r:p:claimed', { recheck: true }))?.toString()).toBe(
        'stored by the claim holder',
      );
      const stats = await store.stats();
      expect(stats.by_kind.result).toEqual({ hits: 1, misses: 0 });
      expect({ hits: stats.hits, misses: stats.misses }).toEqual({ hits: 1, misses: 0 });
      // A re-check with no counted miss behind it adds nothing.
      await store.set('r:p:other', Buffer.from('x'), 60_000);
      await store.get('r:p:other', { recheck: true });
      expect((await store.stats()).by_kind.result).toEqual({ hits: 1, misses: 0 });
    });

    it('expires entries after their TTL; 0 means no expiry', async () => {
      const store = await open();
      opened.push(store);
      const ttl = name === 'redis' ? 1000 : 80; // Redis EX has one-second resolution
      await store.set('short', Buffer.from('x'), ttl);
      await store.set('forever', Buffer.from('y'), 0);
      expect(await store.get('short')).toBeDefined();
      await sleep(ttl + (name === 'redis' ? 1100 : 60));
      expect(await store.get('short')).toBeUndefined();
      expect((await store.get('forever'))?.toString()).toBe('y');
    });

    it('clears by prefix, by age and entirely', async () => {
      const store = await open();
      opened.push(store);
      await store.set('r:p1:a', Buffer.from('1'), 0);
      await store.set('r:p1:b', Buffer.from('2'), 0);
      await store.set('r:p2:a', Buffer.from('3'), 0);
      await store.set('i:x', Buffer.from('4'), 0);
      expect(await store.clear({ prefix: 'r:p1:' })).toBe(2);
      expect(await store.get('r:p1:a')).toBeUndefined();
      expect(await store.get('r:p2:a')).toBeDefined();
      expect(await store.clear({ olderThanMs: 60_000 })).toBe(0);
      await sleep(30);
      expect(await store.clear({ olderThanMs: 10 })).toBe(2);
      await store.set('z', Buffer.from('5'), 0);
      expect((await store.stats()).entries).toBe(1);
      expect(await store.clear()).toBe(1);
      expect((await store.stats()).entries).toBe(0);
    });

    it('groups entries by the provider and model they were written with; without meta: unknown', async () => {
      const store = await open();
      opened.push(store);
      const gpt = { provider: 'openai', model: 'gpt-4o' };
      await store.set('r:p1:a', Buffer.from('12'), 0, gpt);
      await store.set('r:p1:b', Buffer.from('345'), 0, gpt);
      await store.set('r:p1:c', Buffer.from('6'), 0, { provider: 'anthropic', model: 'claude-x' });
      await store.set('r:p1:d', Buffer.from('78'), 0);
      await store.set('i:x', Buffer.from('image'), 0, gpt);
      expect(await store.byModel?.('r:')).toEqual([
        { provider: 'anthropic', model: 'claude-x', entries: 1, bytes: 1 },
        { provider: 'openai', model: 'gpt-4o', entries: 2, bytes: 5 },
        { provider: 'unknown', model: 'unknown', entries: 1, bytes: 2 },
      ]);
      // An overwrite carries its own meta (none: unknown), and a delete takes the meta along.
      await store.set('r:p1:a', Buffer.from('12'), 0);
      await store.delete('r:p1:c');
      expect(await store.byModel?.('r:')).toEqual([
        { provider: 'openai', model: 'gpt-4o', entries: 1, bytes: 3 },
        { provider: 'unknown', model: 'unknown', entries: 2, bytes: 4 },
      ]);
      // Meta is not an entry: stats and clear count entries only.
      expect((await store.stats()).entries).toBe(4);
      expect(await store.clear({ prefix: 'r:' })).toBe(3);
      expect(await store.byModel?.('')).toEqual([
        { provider: 'openai', model: 'gpt-4o', entries: 1, bytes: 5 },
      ]);
    });
  });
}

describe('memory store', () => {
  it('holds its byte bound for many small values: each costs its overhead, none pins a pooled slab', async () => {
    const store = new MemoryStore(64 * 1024);
    for (let i = 0; i < 1000; i++) await store.set(`k${i}`, Buffer.from(`{"n":${i}}`), 0);
    const stats = await store.stats();
    // 64 KB at ~270 bytes an entry: a couple of hundred entries, not a thousand.
    expect(stats.entries).toBeGreaterThan(150);
    expect(stats.entries).toBeLessThan(300);
    const kept = await store.get('k999');
    expect(kept?.toString()).toBe('{"n":999}');
    // Buffer.from(string) slices Node's shared 8 KB pool; the store keeps its own copy.
    expect(kept?.buffer.byteLength).toBe(kept?.length);
  });
});

describe('SQLite store', () => {
  it('keeps counters and entries across reopen (WAL file on disk)', async () => {
    const file = path.join(await tempDir('visionpipe-sqlite-'), 'cache.sqlite');
    const first = new SqliteStore(file);
    await first.set('k', Buffer.from('v'), 0);
    await first.get('k');
    await first.close();
    const second = new SqliteStore(file);
    opened.push(second);
    expect((await second.get('k'))?.toString()).toBe('v');
    expect(await second.stats()).toMatchObject({ entries: 1, hits: 2 });
    // Kinds persist too: 'k' is no visionpipe key, so its lookups are of kind "other".
    expect((await second.stats()).by_kind.other).toEqual({ hits: 2, misses: 0 });
  });

  it('adds the provider/model columns to a cache written before them: its rows are unknown', async () => {
    const file = path.join(await tempDir('visionpipe-sqlite-'), 'cache.sqlite');
    const old = new Database(file);
    old.exec(`CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB NOT NULL, size INTEGER NOT NULL,
      created_at INTEGER NOT NULL, expires_at INTEGER)`);
    old
      .prepare('INSERT INTO entries VALUES (?, ?, ?, ?, NULL)')
      .run('r:old', Buffer.from('abc'), 3, Date.now());
    old.close();
    const store = new SqliteStore(file);
    opened.push(store);
    await store.set('r:new', Buffer.from('de'), 0, { provider: 'openai', model: 'gpt-4o' });
    expect((await store.get('r:old'))?.toString()).toBe('abc');
    expect(await store.byModel('r:')).toEqual([
      { provider: 'openai', model: 'gpt-4o', entries: 1, bytes: 2 },
      { provider: 'unknown', model: 'unknown', entries: 1, bytes: 3 },
    ]);
  });

  it('evicts the oldest entries past its byte budget', async () => {
    const store = new SqliteStore(path.join(await tempDir('visionpipe-sqlite-'), 'cache.sqlite'), {
      maxBytes: 10_000,
    });
    opened.push(store);
    for (let i = 0; i < 20; i++) await store.set(`k${i}`, Buffer.alloc(1000, i), 0);
    const stats = await store.stats();
    expect(stats.bytes).toBeLessThanOrEqual(10_000);
    expect(await store.get('k19')).toBeDefined();
    expect(await store.get('k0')).toBeUndefined();
  });

  it('a corrupt cache file gives a warning and a working in-memory cache, never a failure', async () => {
    const stateDir = await tempDir('visionpipe-state-');
    await writeFile(
      path.join(stateDir, 'cache.sqlite'),
      'this is not a database, just text that looks corrupt'.repeat(100),
    );
    const warnings: string[] = [];
    const cache = await openCache({ spec: 'sqlite', stateDir, warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/cache\.sqlite is unreadable/);
    expect(cache.persistent).toBe(false);
    await cache.results.set('k', Buffer.from('v'), 0);
    expect((await cache.results.get('k'))?.toString()).toBe('v');
    await cache.close();
  });
});

describe('Redis failover', () => {
  it('falls back to the local store when Redis is unreachable, with one warning', async () => {
    const warnings: string[] = [];
    const cache = await openCache({
      spec: 'redis://127.0.0.1:1', // nothing listens on port 1
      stateDir: await tempDir('visionpipe-state-'),
      warn: (m) => warnings.push(m),
    });
    await cache.results.set('k', Buffer.from('v'), 60_000);
    expect((await cache.results.get('k'))?.toString()).toBe('v');
    expect(warnings.some((w) => w.includes('not reachable'))).toBe(true);
    await cache.close();
  });

  it('keeps going when its Redis dies mid-run and uses it again when it returns', async () => {
    const redis = await startRedis();
    if (!redis) return; // redis-server not installed: covered by the unreachable case above
    const warnings: string[] = [];
    const cache = await openCache({
      spec: redis.url,
      stateDir: await tempDir('visionpipe-state-'),
      warn: (m) => warnings.push(m),
    });
    try {
      await cache.results.set('before', Buffer.from('1'), 60_000);
      await redis.stop();
      // Operations go on against the local fallback while Redis is down.
      await cache.results.set('during', Buffer.from('2'), 60_000);
      expect((await cache.results.get('during'))?.toString()).toBe('2');
      expect(warnings.some((w) => w.includes('unavailable'))).toBe(true);
      await redis.start();
      await waitFor(async () => {
        await cache.results.set(`probe-${Date.now()}`, Buffer.from('3'), 60_000);
        return warnings.some((w) => w.includes('is back'));
      });
      const direct = new RedisStore(redis.url);
      await direct.connect();
      await cache.results.set('after', Buffer.from('4'), 60_000);
      expect((await direct.get('after'))?.toString()).toBe('4');
      await direct.close();
    } finally {
      await cache.close();
      await redis.stop();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error('condition not met in time');
}
