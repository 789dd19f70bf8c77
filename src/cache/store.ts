/**
 * The CacheStore seam: bytes under string keys with a TTL. Memory (lru-cache), SQLite
 * (better-sqlite3, WAL) and Redis (ioredis) implement it; a layered store puts memory in
 * front, a failover store keeps a batch going when Redis drops. Stores know nothing of
 * providers or patterns: keys are made in keys.ts.
 */

export interface CacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
}

/** Entries whose keys share a prefix (a kind, a pattern): what `cache stats` shows. */
export interface GroupStats {
  /** The first `prefixLength` characters of the keys (shorter keys: the whole key). */
  group: string;
  entries: number;
  /** Bytes of the values. */
  bytes: number;
  /** When the oldest and newest entries were written (ms since the epoch). */
  oldestMs: number;
  newestMs: number;
}

export interface ClearOptions {
  /** Only keys starting with this prefix. */
  prefix?: string;
  /** Only entries written more than this many milliseconds ago. */
  olderThanMs?: number;
}

export interface CacheStore {
  /** `memory`, `sqlite:<file>`, `redis://…`, for messages and stats. */
  readonly name: string;
  get(key: string): Promise<Buffer | undefined>;
  /** `ttlMs` 0 means no expiry. */
  set(key: string, value: Buffer, ttlMs: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  clear(options?: ClearOptions): Promise<number>;
  stats(): Promise<CacheStats>;
  /**
   * Entries grouped by the first `prefixLength` characters of their keys, counting only
   * keys that start with `prefix`. Reads every key: for `cache stats`, not a hot path.
   * Optional for stores written outside visionpipe (stats then shows totals only).
   */
  groups?(prefixLength: number, prefix?: string): Promise<GroupStats[]>;
  close(): Promise<void>;
}

/** Adds one entry to the group its key falls in (memory and Redis stores, which scan keys). */
export function addToGroups(
  groups: Map<string, GroupStats>,
  key: string,
  prefixLength: number,
  bytes: number,
  writtenMs: number,
): void {
  const group = key.slice(0, prefixLength);
  const row = groups.get(group);
  if (!row) groups.set(group, { group, entries: 1, bytes, oldestMs: writtenMs, newestMs: writtenMs });
  else {
    row.entries++;
    row.bytes += bytes;
    row.oldestMs = Math.min(row.oldestMs, writtenMs);
    row.newestMs = Math.max(row.newestMs, writtenMs);
  }
}

/** Receives one-line warnings (a corrupt file, Redis gone or back); never throws. */
export type WarningSink = (message: string) => void;

export const DEFAULT_TTL_MS = 24 * 3600 * 1000;
