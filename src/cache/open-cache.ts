/**
 * Builds the stores a run uses from `--cache memory|sqlite|redis://…|off`:
 * - results: what was extracted, keyed by content + pattern + provider + model + profile;
 * - images: preprocessed images (content + profile), local only: they are large and
 *   cheap to recompute elsewhere, so they never travel to Redis;
 * - a stat memo so re-runs skip re-hashing unchanged files.
 * `off` still deduplicates within the run (an in-memory store that dies with it).
 */
import path from 'node:path';
import { didYouMean } from '../config/did-you-mean.js';
import { VisionpipeError } from '../errors.js';
import { type ClaimStore, DEFAULT_CLAIM_LEASE_MS } from './claims.js';
import { FailoverStore } from './failover-store.js';
import { LayeredStore } from './layered-store.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import { SqliteCacheUnavailable, SqliteStore } from './sqlite-store.js';
import { StatMemo } from './stat-memo.js';
import { type CacheStore, DEFAULT_TTL_MS, type WarningSink } from './store.js';

export type CacheMode = 'memory' | 'sqlite' | 'redis' | 'off';

export interface CacheOptions {
  /** `memory`, `sqlite` (default), `off` or a `redis://` / `rediss://` URL. */
  spec?: string;
  /** Folder for the SQLite files. Default `.visionpipe` under the working directory. */
  stateDir?: string;
  /** Entry lifetime; 0 = no expiry. Default 24 h. */
  ttlMs?: number;
  /** Redis key prefix. */
  namespace?: string;
  /**
   * Lease of this cache's cross-process claims, ms (claims.ts): how long a killed process's
   * claim keeps the others waiting. Default DEFAULT_CLAIM_LEASE_MS (30 s).
   */
  claimLeaseMs?: number;
  warn?: WarningSink;
}

export interface CacheSetup {
  mode: CacheMode;
  /** Whether results survive the run (false for memory and off). */
  persistent: boolean;
  results: CacheStore;
  images: CacheStore;
  memo: StatMemo | undefined;
  ttlMs: number;
  /**
   * Cross-process in-flight claims (claims.ts): in Redis for a Redis cache, in the SQLite
   * file for the default cache (processes sharing a state folder); none in memory.
   */
  claims?: ClaimStore;
  /** Lease of `claims`, ms (CacheOptions.claimLeaseMs). */
  claimLeaseMs: number;
  describe: string;
  close(): Promise<void>;
}

/** The closest store name, or the URL form when a Redis address was meant ("redis", "redis:6379"). */
function cacheSuggestion(spec: string): string {
  if (/^rediss?(:|$)/i.test(spec.trim()) || /^[\w.-]+:\d+$/.test(spec.trim()))
    return ` Did you mean "redis://${spec.trim().replace(/^rediss?:?\/*/i, '') || '127.0.0.1:6379'}"?`;
  return didYouMean(spec, ['memory', 'sqlite', 'off']);
}

export function parseCacheMode(spec: string): CacheMode {
  if (spec === 'memory' || spec === 'sqlite' || spec === 'off') return spec;
  if (/^rediss?:\/\//.test(spec)) return 'redis';
  throw new VisionpipeError(
    'INVALID_OPTION',
    `--cache "${spec}" must be memory, sqlite, off or a redis:// URL.${cacheSuggestion(spec)}`,
    {
      option: 'cache',
    },
  );
}

function openSqlite(file: string, warn: WarningSink): SqliteStore | undefined {
  try {
    return new SqliteStore(file, { warn });
  } catch (error) {
    if (!(error instanceof SqliteCacheUnavailable)) throw error;
    warn(`cache ${file} is unreadable (${error.message}); using an in-memory cache for this run`);
    return undefined;
  }
}

/**
 * In front of a persistent store, memory only needs the hot set: results of the images in
 * flight and their preprocessed bytes between triage and extraction. Small fronts keep a
 * long run's memory flat (bench:memory); the persistent store holds everything else.
 */
const RESULT_FRONT_BYTES = 16 * 1024 * 1024;
const IMAGE_FRONT_BYTES = 32 * 1024 * 1024;
/** With no persistent store, memory is the cache: larger, still bounded. */
const RESULT_MEMORY_BYTES = 64 * 1024 * 1024;
const IMAGE_MEMORY_BYTES = 256 * 1024 * 1024;

export async function openCache(options: CacheOptions = {}): Promise<CacheSetup> {
  const spec = options.spec ?? 'sqlite';
  const mode = parseCacheMode(spec);
  const stateDir = options.stateDir ?? path.resolve('.visionpipe');
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const warn = options.warn ?? (() => {});
  const closables: Array<{ close(): unknown }> = [];
  const claimLeaseMs = options.claimLeaseMs ?? DEFAULT_CLAIM_LEASE_MS;
  const setup = (parts: Omit<CacheSetup, 'ttlMs' | 'close' | 'mode' | 'claimLeaseMs'>): CacheSetup => ({
    ...parts,
    mode,
    ttlMs,
    claimLeaseMs,
    async close() {
      for (const closable of closables.reverse()) await closable.close();
    },
  });

  if (mode === 'off' || mode === 'memory') {
    const results = new MemoryStore(RESULT_MEMORY_BYTES);
    const images = new MemoryStore(IMAGE_MEMORY_BYTES);
    closables.push(results, images);
    return setup({
      persistent: false,
      results,
      images,
      memo: undefined,
      describe: mode === 'off' ? 'off (deduplication within this run only)' : 'memory',
    });
  }

  const local = openSqlite(path.join(stateDir, 'cache.sqlite'), warn);
  const memo = local ? new StatMemo(path.join(stateDir, 'stat-memo.sqlite'), warn) : undefined;
  if (local) closables.push(local);
  if (memo) closables.push(memo);
  const localBack: CacheStore = local ?? new MemoryStore(IMAGE_MEMORY_BYTES);
  const images = new LayeredStore(new MemoryStore(IMAGE_FRONT_BYTES), localBack);

  if (mode === 'sqlite') {
    const results = new LayeredStore(new MemoryStore(RESULT_FRONT_BYTES), localBack);
    return setup({
      persistent: local !== undefined,
      results,
      images,
      memo,
      ...(local ? { claims: local } : {}),
      describe: localBack.name,
    });
  }

  const redis = new RedisStore(spec, options.namespace === undefined ? {} : { namespace: options.namespace });
  closables.push(redis);
  if (!(await redis.connect()))
    warn(`cache ${redis.name} is not reachable: using ${localBack.name} until it is`);
  const results = new LayeredStore(
    new MemoryStore(RESULT_FRONT_BYTES),
    new FailoverStore(redis, localBack, warn),
  );
  return setup({
    persistent: true,
    results,
    images,
    memo,
    claims: redis,
    describe: `${redis.name} (fallback ${localBack.name})`,
  });
}
