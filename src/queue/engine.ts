/**
 * What every worker process shares: one provider (its HTTP pool or OCR workers), one
 * result cache (Redis by default, the same one every worker on every machine reads),
 * one rate limiter (Redis when a limit is set: one budget for the whole fleet), and the
 * pattern pipelines built on them. A `run --queue` job may ask for another provider,
 * model or base URL: each distinct setting gets its own provider, made once, with the
 * worker's own API keys.
 */
import { openCache } from '../cache/open-cache.js';
import type { WarningSink } from '../cache/store.js';
import { createLimiter } from '../flow/create-limiter.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import type { ProfileName } from '../image/profiles.js';
import type { Pattern } from '../patterns/types.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import { providerAccount } from '../providers/account.js';
import type { PriceTable } from '../providers/pricing.js';
import { createProvider, type ProviderOptions } from '../providers/registry.js';
import type { Provider } from '../providers/spec.js';
import { journaled } from './answer-journal.js';
import { crashHook } from './crash-point.js';
import type { DocumentSetting } from './document-setting.js';
import { PipelinePool } from './pipelines.js';
import { markCalled, markPossiblyPaid, markReplayed } from './possibly-paid.js';
import { type ProviderSetting, settingKey } from './provider-setting.js';

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
  /**
   * Lease of the cache's cross-process claims, ms (cache/claims.ts): a killed worker's claim
   * keeps the re-run of its job waiting this long. Default 30 s; a fleet's is its lock duration.
   */
  claimLeaseMs?: number;
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
  /** Most pages one document may have; over it the job fails `TOO_MANY_PAGES` (default 50). */
  maxPages?: number;
  priceTable?: PriceTable;
  warn: WarningSink;
}

/** The pipelines of one provider setting, for a pattern. */
export interface EnginePipelines {
  /**
   * The worker's own provider when `setting` is absent, else the one the job asks for;
   * documents read as `documents` says (absent: one record per document).
   */
  for(pattern: Pattern, setting?: ProviderSetting, documents?: DocumentSetting): Promise<Pipeline>;
}

export interface Engine {
  readonly pipelines: EnginePipelines;
  readonly providerId: string;
  close(): Promise<void>;
}

/** Provider options with the setting's base URL for its provider (keys stay the worker's: from its environment). */
function optionsFor(options: ProviderOptions, setting: ProviderSetting): ProviderOptions {
  if (!setting.baseUrl || setting.id === 'local') return options;
  const own = (options as Record<string, object | undefined>)[setting.id] ?? {};
  return { ...options, [setting.id]: { ...own, baseUrl: setting.baseUrl } } as ProviderOptions;
}

export async function openEngine(settings: EngineSettings): Promise<Engine> {
  const crash = crashHook();
  const cache = await openCache({
    spec: settings.cache,
    stateDir: settings.stateDir,
    ttlMs: settings.cacheTtlMs,
    namespace: settings.cacheNamespace,
    ...(settings.claimLeaseMs === undefined ? {} : { claimLeaseMs: settings.claimLeaseMs }),
    warn: settings.warn,
  });
  const limiters = new Map<string, Limiter>();
  /**
   * One limiter per provider account (provider, endpoint, key: src/providers/account.ts): the
   * same Redis budget for every worker and `run --limiter` on that account, and a separate one
   * for a job whose base URL names another server.
   */
  const limiterOf = (id: string, options: ProviderOptions): Limiter | undefined => {
    // Without a limit, a Redis store still shares what the workers' adaptive flows learn.
    const shared = /^rediss?:/i.test(settings.limiterStore.trim());
    if (settings.rpm === undefined && settings.tpm === undefined && !shared) return undefined;
    const own = (options as Record<string, { baseUrl?: string; apiKey?: string } | undefined>)[id];
    const name = providerAccount({ provider: id, baseUrl: own?.baseUrl, apiKey: own?.apiKey });
    let limiter = limiters.get(name);
    if (!limiter) {
      limiter = createLimiter(settings.limiterStore, {
        ...(settings.rpm === undefined ? {} : { rpm: settings.rpm }),
        ...(settings.tpm === undefined ? {} : { tpm: settings.tpm }),
        name,
        prefix: settings.limiterPrefix,
        onWarning: settings.warn,
      });
      limiters.set(name, limiter);
    }
    return limiter;
  };
  const providers: Provider[] = [];
  const poolOf = (name: string, options: ProviderOptions, model: string | undefined): PipelinePool => {
    // Every answer is persisted (shared cache store) before the pipeline sees it: a worker
    // killed after the answer never makes the re-run pay again.
    const provider = journaled(createProvider(name, options), {
      store: cache.results,
      ttlMs: settings.cacheTtlMs,
      warn: settings.warn,
      onPossiblyPaid: markPossiblyPaid,
      onReplayed: markReplayed,
      onCall: markCalled,
      ...(crash
        ? { afterPersist: () => crash('after-answer'), beforePersist: () => crash('before-journal') }
        : {}),
    });
    providers.push(provider);
    const limiter = limiterOf(provider.id, options);
    return new PipelinePool({
      provider,
      cache,
      warn: settings.warn,
      ...(model ? { model } : {}),
      ...(settings.profile ? { profile: settings.profile } : {}),
      ...(limiter ? { limiter } : {}),
      ...(settings.retry ? { retry: settings.retry } : {}),
      ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
      ...(settings.maxImageTokens === undefined ? {} : { maxImageTokens: settings.maxImageTokens }),
      ...(settings.maxPages === undefined ? {} : { maxPages: settings.maxPages }),
      ...(settings.priceTable ? { priceTable: settings.priceTable } : {}),
    });
  };
  const own = poolOf(settings.provider, settings.providerOptions, settings.model);
  /** One provider (HTTP pool, breaker) per distinct setting jobs ask for, kept for the process's life. */
  const asked = new Map<string, PipelinePool>();
  const pipelines: EnginePipelines = {
    for(pattern, setting, documents) {
      if (!setting) return own.for(pattern, documents);
      const key = settingKey(setting);
      let pool = asked.get(key);
      if (!pool) {
        pool = poolOf(setting.id, optionsFor(settings.providerOptions, setting), setting.model);
        asked.set(key, pool);
      }
      return pool.for(pattern, documents);
    },
  };
  return {
    pipelines,
    providerId: providers[0]!.id,
    async close() {
      for (const limiter of limiters.values()) await limiter.close();
      for (const provider of providers) await provider.close();
      await cache.close();
    },
  };
}
