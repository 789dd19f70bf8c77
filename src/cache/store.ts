/**
 * The CacheStore seam: bytes under string keys with a TTL. Memory (lru-cache), SQLite
 * (better-sqlite3, WAL) and Redis (ioredis) implement it; a layered store puts memory in
 * front, a failover store keeps a batch going when Redis drops. Stores know nothing of
 * providers or patterns: keys are made in keys.ts.
 */

import { lookupKind } from './keys.js';

export interface LookupCounts {
  hits: number;
  misses: number;
}

export interface CacheStats extends LookupCounts {
  entries: number;
  bytes: number;
  /**
   * Hits and misses by kind of entry (keys.ts `lookupKind`: result, failure, verdict,
   * image). Lookups counted before kinds were recorded are in no kind: the totals hold them.
   */
  by_kind: Record<string, LookupCounts>;
}

/**
 * Hits and misses of one store by kind of entry, counted in memory on the hot path and
 * persisted by the store on close (SQLite counters table, Redis stats hash) under
 * `hits:<kind>` / `misses:<kind>` beside the totals `hits` / `misses`.
 */
export class LookupTally {
  private readonly kinds = new Map<string, LookupCounts>();
  hits = 0;
  misses = 0;

  hit(key: string): void {
    this.hits++;
    this.counts(key).hits++;
  }

  miss(key: string): void {
    this.misses++;
    this.counts(key).misses++;
  }

  /**
   * One read of `key` counted as `read` says: a first lookup counts a hit or a miss; a
   * re-check (ReadOptions.recheck) counts no second miss, and its hit turns the miss this
   * tally counted for the key's kind into a hit (nothing, when no such miss is counted here).
   */
  count(key: string, found: boolean, read: ReadOptions | undefined): void {
    if (!read?.recheck) {
      if (found) this.hit(key);
      else this.miss(key);
      return;
    }
    const c = this.counts(key);
    if (!found || c.misses === 0 || this.misses === 0) return;
    c.misses--;
    this.misses--;
    c.hits++;
    this.hits++;
  }

  /**
   * Takes back the miss a first lookup of `key` counted here (nothing when no miss of its
   * kind is counted): the input turned out not to be an image at all, so its lookup is no
   * cache lookup worth counting, as its record's `cache: null` says.
   */
  withdraw(key: string): void {
    const c = this.counts(key);
    if (c.misses === 0 || this.misses === 0) return;
    c.misses--;
    this.misses--;
  }

  /** Counter names and values to add to the persisted ones (totals and per kind). */
  increments(): Array<[string, number]> {
    const out: Array<[string, number]> = [
      ['hits', this.hits],
      ['misses', this.misses],
    ];
    for (const [kind, c] of this.kinds) out.push([`hits:${kind}`, c.hits], [`misses:${kind}`, c.misses]);
    return out.filter(([, n]) => n > 0);
  }

  reset(): void {
    this.kinds.clear();
    this.hits = 0;
    this.misses = 0;
  }

  /** Totals and kinds of `persisted` counters (by name, as increments() writes them) plus these. */
  stats(
    persisted: Record<string, number | string> = {},
  ): LookupCounts & { by_kind: Record<string, LookupCounts> } {
    const by_kind: Record<string, LookupCounts> = {};
    const at = (kind: string) => {
      by_kind[kind] ??= { hits: 0, misses: 0 };
      return by_kind[kind];
    };
    for (const [name, value] of Object.entries(persisted)) {
      const match = /^(hits|misses):(.+)$/.exec(name);
      if (match) at(match[2] as string)[match[1] as 'hits' | 'misses'] += Number(value);
    }
    for (const [kind, c] of this.kinds) {
      at(kind).hits += c.hits;
      at(kind).misses += c.misses;
    }
    return {
      hits: Number(persisted.hits ?? 0) + this.hits,
      misses: Number(persisted.misses ?? 0) + this.misses,
      by_kind,
    };
  }

  private counts(key: string): LookupCounts {
    const kind = lookupKind(key);
    let c = this.kinds.get(kind);
    if (!c) {
      c = { hits: 0, misses: 0 };
      this.kinds.set(kind, c);
    }
    return c;
  }
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

/** Who produced an entry: what `cache stats` groups by (`by model`). */
export interface EntryMeta {
  /** Provider id (`openai`, `anthropic`, `local`, …). */
  provider: string;
  /** The model as the provider named it in its answer. */
  model: string;
}

/** Entries by the provider and model that produced them; `unknown` for entries written without meta. */
export interface ModelStats {
  provider: string;
  model: string;
  entries: number;
  /** Bytes of the values. */
  bytes: number;
}

/** What an entry written without meta (older caches, prepared images) is grouped under. */
export const UNKNOWN_MODEL = 'unknown';

export interface ClearOptions {
  /** Only keys starting with this prefix. */
  prefix?: string;
  /** Only entries written more than this many milliseconds ago. */
  olderThanMs?: number;
}

/** How a read is counted in the lookup statistics (`cache stats`). */
export interface ReadOptions {
  /**
   * A re-read of a key whose lookup this process already counted (a cross-process claim's
   * re-check, claims.ts): a miss is not counted again, and a hit turns the counted miss
   * into a hit, so each lookup counts once, as the record it ends in says (the hit rate is
   * the runs' own). A layered store reads it from the backing store, where other processes
   * write.
   */
  recheck?: boolean;
}

export interface CacheStore {
  /** `memory`, `sqlite:<file>`, `redis://…`, for messages and stats. */
  readonly name: string;
  get(key: string, read?: ReadOptions): Promise<Buffer | undefined>;
  /**
   * `ttlMs` 0 means no expiry. `meta`: the provider and model that produced the value, kept
   * beside it for `cache stats` (`byModel`); stores written outside visionpipe may ignore it.
   */
  set(key: string, value: Buffer, ttlMs: number, meta?: EntryMeta): Promise<void>;
  /**
   * Takes back the miss this process counted for a lookup of `key` (LookupTally.withdraw):
   * the input was refused before any provider call. Stores without lookup counters omit it.
   */
  withdraw?(key: string): void;
  delete(key: string): Promise<boolean>;
  clear(options?: ClearOptions): Promise<number>;
  stats(): Promise<CacheStats>;
  /**
   * Entries grouped by the first `prefixLength` characters of their keys, counting only
   * keys that start with `prefix`. Reads every key: for `cache stats`, not a hot path.
   * Optional for stores written outside visionpipe (stats then shows totals only).
   */
  groups?(prefixLength: number, prefix?: string): Promise<GroupStats[]>;
  /**
   * Entries whose keys start with `prefix`, by the provider and model given to `set`
   * (entries written without meta: provider and model `unknown`), sorted by provider then
   * model. Reads every key: for `cache stats`. Optional like `groups`.
   */
  byModel?(prefix?: string): Promise<ModelStats[]>;
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

/** Adds one entry to its provider/model row (memory and Redis stores, which scan keys). */
export function addToModels(
  models: Map<string, ModelStats>,
  meta: EntryMeta | undefined,
  bytes: number,
): void {
  const provider = meta?.provider ?? UNKNOWN_MODEL;
  const model = meta?.model ?? UNKNOWN_MODEL;
  const id = `${provider}\0${model}`;
  const row = models.get(id);
  if (row) {
    row.entries++;
    row.bytes += bytes;
  } else models.set(id, { provider, model, entries: 1, bytes });
}

/** Rows of `addToModels`, sorted by provider then model. */
export function sortedModels(models: Map<string, ModelStats>): ModelStats[] {
  return [...models.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model),
  );
}

/** Receives one-line warnings (a corrupt file, Redis gone or back); never throws. */
export type WarningSink = (message: string) => void;

export const DEFAULT_TTL_MS = 24 * 3600 * 1000;
