/**
 * The dedup/cache stage: results are stored by content key the moment a provider
 * answers (before anything else can fail), so a killed run never pays for them again;
 * a hit costs nothing and returns the stored output. An entry that cannot be decoded is
 * dropped and treated as a miss.
 */
import { asObject, decodeEntry } from '../cache/json-entry.js';
import type { CacheSetup } from '../cache/open-cache.js';
import type { ReadOptions, WarningSink } from '../cache/store.js';
import type { Usage } from '../providers/spec.js';
import { redactDeep } from '../secrets.js';
import type { CascadeInfo, RunRecord } from './record.js';

export interface CachedResult {
  output: unknown;
  model: string;
  usage: Usage;
  cost_usd: number | null;
  image: RunRecord['image'];
  profile: string;
  confidence: number | null;
  /** Per-field confidence 0–1 (record.field_confidence); absent from entries cached before it existed. */
  field_confidence?: Record<string, number> | null;
  /** The input that produced it (for `duplicate_of`). */
  input: string;
  sha256: string;
  /** Which run produced it: a hit from this run is a `dedup`, from an earlier run a `hit`. */
  run_id: string;
  created_at: number;
  cascade: CascadeInfo;
}

function isCachedResult(value: unknown): value is CachedResult {
  const v = asObject(value);
  return (
    v !== undefined &&
    'output' in v &&
    typeof v.model === 'string' &&
    typeof v.run_id === 'string' &&
    typeof v.sha256 === 'string'
  );
}

export class ResultCacheStage {
  /**
   * @param provider the pipeline's provider id: stored with each result (and its model)
   *   so `cache stats` can show entries by provider and model.
   */
  constructor(
    private readonly setup: CacheSetup,
    private readonly warn: WarningSink,
    private readonly provider: string,
  ) {}

  /**
   * The cached result of `key`. `read.recheck`: a re-read of a key already looked up (a
   * claim's re-check), not counted as another lookup (store.ts ReadOptions).
   */
  async lookup(key: string, read?: ReadOptions): Promise<CachedResult | undefined> {
    let raw: Buffer | undefined;
    try {
      raw = await this.setup.results.get(key, read);
    } catch (error) {
      this.warn(`cache read failed (${(error as Error).message}); treating as a miss`);
      return undefined;
    }
    if (raw === undefined) return undefined;
    const entry = decodeEntry(raw, isCachedResult);
    if (entry) return entry;
    this.warn(`cache entry ${key.slice(0, 24)}… is unreadable; dropping it`);
    await this.setup.results.delete(key).catch(() => false);
    return undefined;
  }

  /** Takes back the miss the lookup of `key` counted (CacheStore.withdraw): a refused input's. */
  withdraw(key: string): void {
    this.setup.results.withdraw?.(key);
  }

  async save(key: string, result: CachedResult): Promise<void> {
    try {
      // Shared caches (Redis) outlive the run: no secret is stored in them (secrets.ts).
      await this.setup.results.set(key, Buffer.from(JSON.stringify(redactDeep(result))), this.setup.ttlMs, {
        provider: this.provider,
        model: result.model,
      });
    } catch (error) {
      this.warn(`cache write failed (${(error as Error).message}); the result is still reported`);
    }
  }
}
