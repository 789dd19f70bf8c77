/** In-process store on lru-cache, bounded by bytes: the fastest layer, gone with the process. */
import { LRUCache } from 'lru-cache';
import {
  addToGroups,
  addToModels,
  type CacheStats,
  type CacheStore,
  type ClearOptions,
  type EntryMeta,
  type GroupStats,
  LookupTally,
  type ModelStats,
  type ReadOptions,
  sortedModels,
} from './store.js';

interface Entry {
  value: Buffer;
  storedAt: number;
  meta?: EntryMeta;
}

/**
 * What an entry costs beyond its bytes (lru-cache's slots, the Entry and Buffer objects,
 * the key): counted so the byte bound holds for the many small values (results, verdicts)
 * as well as for images.
 */
const ENTRY_OVERHEAD_BYTES = 256;

export class MemoryStore implements CacheStore {
  readonly name = 'memory';
  private readonly lru: LRUCache<string, Entry>;
  private readonly lookups = new LookupTally();

  /** @param maxBytes total size of values kept (default 256 MB); least recently used go first. */
  constructor(maxBytes = 256 * 1024 * 1024) {
    this.lru = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      sizeCalculation: (entry, key) => entry.value.length + key.length + ENTRY_OVERHEAD_BYTES,
      ttlAutopurge: false,
      allowStale: false,
    });
  }

  async get(key: string, read?: ReadOptions): Promise<Buffer | undefined> {
    return this.getSync(key, read);
  }

  /** Synchronous read for the layered store's fast path. */
  getSync(key: string, read?: ReadOptions): Buffer | undefined {
    const entry = this.lru.get(key);
    this.lookups.count(key, entry !== undefined, read);
    return entry?.value;
  }

  withdraw(key: string): void {
    this.lookups.withdraw(key);
  }

  async set(key: string, value: Buffer, ttlMs: number, meta?: EntryMeta): Promise<void> {
    const entry: Entry = { value: ownBytes(value), storedAt: Date.now() };
    if (meta) entry.meta = { provider: meta.provider, model: meta.model };
    this.lru.set(key, entry, ttlMs > 0 ? { ttl: ttlMs } : {});
  }

  async delete(key: string): Promise<boolean> {
    return this.lru.delete(key);
  }

  async clear(options: ClearOptions = {}): Promise<number> {
    const cutoff =
      options.olderThanMs === undefined ? Number.POSITIVE_INFINITY : Date.now() - options.olderThanMs;
    let removed = 0;
    for (const [key, entry] of this.lru.entries()) {
      if (options.prefix !== undefined && !key.startsWith(options.prefix)) continue;
      if (entry.storedAt > cutoff) continue;
      this.lru.delete(key);
      removed++;
    }
    return removed;
  }

  async groups(prefixLength: number, prefix = ''): Promise<GroupStats[]> {
    const groups = new Map<string, GroupStats>();
    for (const [key, entry] of this.lru.entries()) {
      if (key.startsWith(prefix)) addToGroups(groups, key, prefixLength, entry.value.length, entry.storedAt);
    }
    return [...groups.values()];
  }

  async byModel(prefix = ''): Promise<ModelStats[]> {
    const models = new Map<string, ModelStats>();
    for (const [key, entry] of this.lru.entries()) {
      if (key.startsWith(prefix)) addToModels(models, entry.meta, entry.value.length);
    }
    return sortedModels(models);
  }

  async stats(): Promise<CacheStats> {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize, ...this.lookups.stats() };
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}

/**
 * A small Buffer is usually a slice of Node's shared 8 KB pool (Buffer.from(string)):
 * keeping the slice keeps the whole slab alive, 8 KB held for a 100-byte result. Keep a
 * copy that owns exactly its bytes instead.
 */
function ownBytes(value: Buffer): Buffer {
  if (value.byteOffset === 0 && value.buffer.byteLength === value.length) return value;
  const copy = Buffer.allocUnsafeSlow(value.length);
  value.copy(copy);
  return copy;
}
