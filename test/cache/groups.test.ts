/** Every store groups its entries by key prefix the same way: what `cache stats` reports. */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LayeredStore } from '../../src/cache/layered-store.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { SqliteStore } from '../../src/cache/sqlite-store.js';
import type { CacheStore } from '../../src/cache/store.js';
import { tempDir } from '../support/images.js';

const REDIS_URL = process.env.VISIONPIPE_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const opened: CacheStore[] = [];
afterAll(async () => {
  for (const store of opened) await store.clear().catch(() => {});
  for (const store of opened) await store.close().catch(() => {});
});

const stores: Record<string, () => Promise<CacheStore>> = {
  memory: async () => new MemoryStore(),
  sqlite: async () => new SqliteStore(path.join(await tempDir('visionpipe-groups-'), 'cache.sqlite')),
  redis: async () => {
    const store = new RedisStore(REDIS_URL, { namespace: `vp-groups-test:${randomUUID()}:` });
    expect(await store.connect()).toBe(true);
    return store;
  },
  'memory+sqlite': async () =>
    new LayeredStore(
      new MemoryStore(),
      new SqliteStore(path.join(await tempDir('visionpipe-groups-'), 'cache.sqlite')),
    ),
};

for (const [name, open] of Object.entries(stores)) {
  describe(`${name} store groups`, () => {
    it('counts entries, value bytes and write times per key prefix', async () => {
      const store = await open();
      opened.push(store);
      const before = Date.now();
      await store.set('r:aaaa:1', Buffer.alloc(10), 60_000);
      await store.set('r:aaaa:2', Buffer.alloc(20), 60_000);
      await store.set('r:bbbb:1', Buffer.alloc(5), 60_000);
      await store.set('i:0001', Buffer.alloc(1000), 60_000);
      const after = Date.now();
      const kinds = await store.groups!(2);
      const byKind = Object.fromEntries(kinds.map((g) => [g.group, g]));
      expect(byKind['r:']).toMatchObject({ entries: 3, bytes: 35 });
      expect(byKind['i:']).toMatchObject({ entries: 1, bytes: 1000 });
      expect(byKind['r:']!.oldestMs).toBeGreaterThanOrEqual(before);
      expect(byKind['r:']!.newestMs).toBeLessThanOrEqual(after);
      const patterns = (await store.groups!(7, 'r:')).sort((a, b) => a.group.localeCompare(b.group));
      expect(patterns.map((g) => [g.group, g.entries, g.bytes])).toEqual([
        ['r:aaaa:', 2, 30],
        ['r:bbbb:', 1, 5],
      ]);
    });
  });
}
