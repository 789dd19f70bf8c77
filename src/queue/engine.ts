/**
 * What every worker process shares: one provider (its HTTP pool or OCR workers), one
 * result cache (Redis by default, the same one every worker on every machine reads),
 * one rate limiter (Redis when a limit is set: one budget for the whole fleet), and the
 * pattern pipelines built on them.
 */
import { openCache } from '../cache/open-cache.js';
import type { WarningSink } from '../cache/store.js';
import { createLimiter } from '../flow/create-limiter.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import type { ProfileName } from '../image/profiles.js';
import type { PriceTable } from '../providers/pricing.js';
import { createProvider, type ProviderOptions } from '../providers/registry.js';
import { journaled } from './answer-journal.js';
import { crashHook } from './crash-point.js';
import { PipelinePool } from './pipelines.js';

export interface EngineSettings {
  provider: string;
  providerOptions: ProviderOptions;
  model?: string;
  profile?: ProfileName;
  /** `redis://…` (shared by every worker), `sqlite`, `memory`. */
  cache: string;
  /** Key prefix of the cache in Redis. */
  cacheNamespace: string;
  cacheTtlMs: number;
  /** Folder for the local SQLite fallback of the cache. */
  stateDir: string;
  /** Requests / tokens per minute for the provider, shared through `limiterStore`. */
  rpm?: number;
  tpm?: number;
  /** `memory` or `redis://…`; with a limit set and no store, the service's Redis. */
  limiterStore: string;
  limiterPrefix: string;
  retry?: Omit<RetryOptions, 'signal'>;
  timeoutMs?: number;
  maxImageTokens?: number;
  priceTable?: PriceTable;
  warn: WarningSink;
}

export interface Engine {
  readonly pipelines: PipelinePool;
  readonly providerId: string;
  close(): Promise<void>;
}

export async function openEngine(settings: EngineSettings): Promise<Engine> {
  const crash = crashHook();
  const bare = createProvider(settings.provider, settings.providerOptions);
  const cache = await openCache({
    spec: settings.cache,
    stateDir: settings.stateDir,
    ttlMs: settings.cacheTtlMs,
    namespace: settings.cacheNamespace,
    warn: settings.warn,
  });
  // Every answer is persisted (shared cache store) before the pipeline sees it: a worker
  // killed after the answer never makes the re-run pay again.
  const provider = journaled(bare, {
    store: cache.results,
    ttlMs: settings.cacheTtlMs,
    warn: settings.warn,
    ...(crash ? { afterPersist: crash } : {}),
  });
  const limiter: Limiter | undefined =
    settings.rpm === undefined && settings.tpm === undefined
      ? undefined
      : createLimiter(settings.limiterStore, {
          ...(settings.rpm === undefined ? {} : { rpm: settings.rpm }),
          ...(settings.tpm === undefined ? {} : { tpm: settings.tpm }),
          name: provider.id,
          prefix: settings.limiterPrefix,
          onWarning: settings.warn,
        });
  const pipelines = new PipelinePool({
    provider,
    cache,
    warn: settings.warn,
    ...(settings.model ? { model: settings.model } : {}),
    ...(settings.profile ? { profile: settings.profile } : {}),
    ...(limiter ? { limiter } : {}),
    ...(settings.retry ? { retry: settings.retry } : {}),
    ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
    ...(settings.maxImageTokens === undefined ? {} : { maxImageTokens: settings.maxImageTokens }),
    ...(settings.priceTable ? { priceTable: settings.priceTable } : {}),
  });
  return {
    pipelines,
    providerId: provider.id,
    async close() {
      await limiter?.close();
      await provider.close();
      await cache.close();
    },
  };
}
