/**
 * Keeps a batch going when the shared store (Redis) is unreachable or drops mid-run:
 * every operation goes to the primary while it is healthy and to a local fallback
 * otherwise, with one warning when Redis goes and one when it comes back (ioredis
 * reconnects on its own). Entries written during the outage stay local.
 */
import type {
  CacheStats,
  CacheStore,
  ClearOptions,
  EntryMeta,
  GroupStats,
  ModelStats,
  ReadOptions,
  WarningSink,
} from './store.js';

export interface HealthReporting extends CacheStore {
  healthy(): boolean;
}

export class FailoverStore implements CacheStore {
  readonly name: string;
  private usingFallback = false;

  constructor(
    private readonly primary: HealthReporting,
    private readonly fallback: CacheStore,
    private readonly warn: WarningSink,
  ) {
    this.name = primary.name;
  }

  private async attempt<T>(operation: (store: CacheStore) => Promise<T>): Promise<T> {
    if (this.primary.healthy()) {
      try {
        const result = await operation(this.primary);
        if (this.usingFallback) {
          this.usingFallback = false;
          this.warn(`cache ${this.primary.name} is back: using it again`);
        }
        return result;
      } catch (error) {
        this.switchToFallback((error as Error).message);
      }
    } else {
      this.switchToFallback('not connected');
    }
    return operation(this.fallback);
  }

  private switchToFallback(reason: string): void {
    if (this.usingFallback) return;
    this.usingFallback = true;
    this.warn(
      `cache ${this.primary.name} unavailable (${reason}): using ${this.fallback.name} until it returns`,
    );
  }

  get(key: string, read?: ReadOptions): Promise<Buffer | undefined> {
    return this.attempt((store) => store.get(key, read));
  }

  set(key: string, value: Buffer, ttlMs: number, meta?: EntryMeta): Promise<void> {
    return this.attempt((store) => store.set(key, value, ttlMs, meta));
  }

  withdraw(key: string): void {
    (this.usingFallback ? this.fallback : this.primary).withdraw?.(key);
  }

  delete(key: string): Promise<boolean> {
    return this.attempt((store) => store.delete(key));
  }

  clear(options?: ClearOptions): Promise<number> {
    return this.attempt((store) => store.clear(options));
  }

  stats(): Promise<CacheStats> {
    return this.attempt((store) => store.stats());
  }

  groups(prefixLength: number, prefix?: string): Promise<GroupStats[]> {
    return this.attempt(async (store) => (await store.groups?.(prefixLength, prefix)) ?? []);
  }

  byModel(prefix?: string): Promise<ModelStats[]> {
    return this.attempt(async (store) => (await store.byModel?.(prefix)) ?? []);
  }

  async close(): Promise<void> {
    await this.primary.close();
    await this.fallback.close();
  }
}
