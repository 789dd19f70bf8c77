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
  close(): Promise<void>;
}

/** Receives one-line warnings (a corrupt file, Redis gone or back); never throws. */
export type WarningSink = (message: string) => void;

export const DEFAULT_TTL_MS = 24 * 3600 * 1000;
