/**
 * Memory in front of a slower store (SQLite or Redis): reads hit the LRU first and fill
 * it from below; writes go to both. A hit in memory costs a Map lookup.
 */
import type { MemoryStore } from './memory-store.js';
import type {
  CacheStats,
  CacheStore,
  ClearOptions,
  EntryMeta,
  GroupStats,
  ModelStats,
  ReadOptions,
} from './store.js';

export class LayeredStore implements CacheStore {
  readonly name: string;

  constructor(
    private readonly front: MemoryStore,
    private readonly back: CacheStore,
    private readonly frontTtlMs = 10 * 60 * 1000,
  ) {
    this.name = `memory+${back.name}`;
  }

  /** A re-check (ReadOptions.recheck) reads the backing store only: other processes write there. */
  async get(key: string, read?: ReadOptions): Promise<Buffer | undefined> {
    const hot = read?.recheck ? undefined : this.front.getSync(key);
    if (hot !== undefined) return hot;
    const value = await this.back.get(key, read);
    if (value !== undefined) await this.front.set(key, value, this.frontTtlMs);
    return value;
  }

  async set(key: string, value: Buffer, ttlMs: number, meta?: EntryMeta): Promise<void> {
    await this.front.set(key, value, ttlMs > 0 ? Math.min(ttlMs, this.frontTtlMs) : this.frontTtlMs, meta);
    await this.back.set(key, value, ttlMs, meta);
  }

  /** The backing store counts the misses (stats() adds only the front's hits). */
  withdraw(key: string): void {
    this.back.withdraw?.(key);
  }

  async delete(key: string): Promise<boolean> {
    const front = await this.front.delete(key);
    const back = await this.back.delete(key);
    return front || back;
  }

  async clear(options?: ClearOptions): Promise<number> {
    await this.front.clear(options);
    return this.back.clear(options);
  }

  /** Entries and bytes of the backing store (the front copies part of it); hits in either layer. */
  async stats(): Promise<CacheStats> {
    const [front, back] = await Promise.all([this.front.stats(), this.back.stats()]);
    const by_kind = { ...back.by_kind };
    for (const [kind, c] of Object.entries(front.by_kind)) {
      const b = by_kind[kind] ?? { hits: 0, misses: 0 };
      by_kind[kind] = { hits: b.hits + c.hits, misses: b.misses };
    }
    return { ...back, hits: back.hits + front.hits, by_kind };
  }

  /** The backing store's: the front holds copies of some of its entries. */
  async groups(prefixLength: number, prefix?: string): Promise<GroupStats[]> {
    return (await this.back.groups?.(prefixLength, prefix)) ?? [];
  }

  /** The backing store's, like `groups`. */
  async byModel(prefix?: string): Promise<ModelStats[]> {
    return (await this.back.byModel?.(prefix)) ?? [];
  }

  async close(): Promise<void> {
    await this.front.close();
    await this.back.close();
  }
}
