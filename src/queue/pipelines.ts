/**
 * One library pipeline per pattern version, the same `createPipeline` that `visionpipe
 * run` uses, all sharing one provider, one result cache (Redis: shared by every worker
 * on every machine) and one rate limiter. Pipelines are cheap (the provider and cache
 * are not theirs to close); the least recently used are dropped past `max`.
 */
import { LRUCache } from 'lru-cache';
import type { CacheSetup } from '../cache/open-cache.js';
import type { WarningSink } from '../cache/store.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import type { ProfileName } from '../image/profiles.js';
import type { Pattern } from '../patterns/types.js';
import { createPipeline, type Pipeline } from '../pipeline/create-pipeline.js';
import type { PriceTable } from '../providers/pricing.js';
import type { Provider } from '../providers/spec.js';
import { type DocumentSetting, documentKey } from './document-setting.js';

export interface PipelineSettings {
  provider: Provider;
  model?: string;
  profile?: ProfileName;
  cache: CacheSetup;
  limiter?: Limiter;
  retry?: Omit<RetryOptions, 'signal'>;
  /** Per provider call, ms. */
  timeoutMs?: number;
  maxImageTokens?: number;
  /** Most pages one document may have (default 50). */
  maxPages?: number;
  priceTable?: PriceTable;
  warn?: WarningSink;
}

export class PipelinePool {
  private readonly pipelines: LRUCache<string, Promise<Pipeline>>;

  constructor(
    private readonly settings: PipelineSettings,
    max = 100,
  ) {
    this.pipelines = new LRUCache({ max });
  }

  /**
   * The pipeline of this pattern version (by fingerprint) and document setting (absent:
   * documents read as one record, the service's ingest), created on first use.
   */
  for(pattern: Pattern, documents?: DocumentSetting): Promise<Pipeline> {
    const key = documents ? `${pattern.fingerprint}\0${documentKey(documents)}` : pattern.fingerprint;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const s = this.settings;
      pipeline = createPipeline({
        pattern,
        provider: s.provider,
        cache: s.cache,
        ...(s.model ? { model: s.model } : {}),
        ...(s.profile ? { profile: s.profile } : {}),
        ...(s.limiter ? { limiter: s.limiter } : {}),
        ...(s.retry ? { retry: s.retry } : {}),
        ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }),
        ...(s.maxImageTokens === undefined ? {} : { maxImageTokens: s.maxImageTokens }),
        // A document is one job: its pages are read together or merged (docs/documents.md).
        // run --queue may ask for another mode, a page range or page limit (one page per job in each mode).
        documents: {
          pages: documents?.pages ?? 'document',
          ...(documents?.pageRange ? { pageRange: documents.pageRange } : {}),
          ...((documents?.maxPages ?? s.maxPages) === undefined
            ? {}
            : { maxPages: documents?.maxPages ?? s.maxPages }),
        },
        ...(s.priceTable ? { priceTable: s.priceTable } : {}),
        ...(s.warn ? { warn: s.warn } : {}),
      });
      this.pipelines.set(key, pipeline);
      // A pipeline that failed to build is not kept: the next job tries again.
      pipeline.catch(() => this.pipelines.delete(key));
    }
    return pipeline;
  }
}
