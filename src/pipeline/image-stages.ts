/**
 * The stages every image of a pipeline goes through, built once from what its options
 * opened (pipeline-resources): content identification (identify-stage), the result cache
 * (cache-stage) and failure memory, one single flight per content key, the optional
 * near-duplicate check, the cascade's models and call controls (cascade-setup), the keys
 * answers are kept under (answer-keys), record assembly, and how document pages are
 * rendered. Direct reads (input-reader) and provider batch APIs (batch-stage) take these
 * same stages, so both follow one path up to the provider call.
 */
import { randomUUID } from 'node:crypto';
import { SingleFlight } from '../cache/single-flight.js';
import { answerKeys } from './answer-keys.js';
import type { CacheMissOptions } from './cache-miss.js';
import { ResultCacheStage } from './cache-stage.js';
import type { CascadeConfig } from './cascade-config.js';
import { cascadeSetup } from './cascade-setup.js';
import { FailureMemory } from './failure-memory.js';
import { IdentifyStage } from './identify-stage.js';
import type { InputReaderOptions } from './input-reader.js';
import { NearDuplicateStage } from './near-duplicate-stage.js';
import type { Outcome } from './outcome.js';
import type { PipelineResources } from './pipeline-resources.js';
import { RecordAssembler } from './record-assembly.js';
import type { PageRendering, PipelineOptions } from './spec.js';

export interface ImageStages extends InputReaderOptions {
  /** This pipeline's run id (a random UUID): a result this run saved is a `dedup` when met again. */
  runId: string;
  /** The resume signature (answer-keys): equal only for runs whose records are interchangeable. */
  settings: string;
  /** The near-duplicate check (dHash within `nearDuplicateDistance` bits), when asked for. */
  near: NearDuplicateStage | undefined;
  /** The cascade's configuration for one image, with its abort signal. */
  cascadeConfig: (signal: AbortSignal | undefined) => CascadeConfig;
  /** How document pages are rendered: the primary model's size limits, JPEG quality, pixel limit. */
  pageRendering: PageRendering;
}

export function imageStages(resources: PipelineResources, options: PipelineOptions): ImageStages {
  const { documentSettings, pattern, provider, primary, cache } = resources;
  const runId = randomUUID();
  const warn = options.warn ?? (() => {});
  const results = new ResultCacheStage(cache, warn, provider.id);
  const failures = new FailureMemory(
    cache,
    warn,
    { provider: provider.id, model: primary.model },
    options.retryFailed ?? false,
  );
  const flights = new SingleFlight<Outcome>();
  const near =
    options.nearDuplicateDistance === undefined
      ? undefined
      : new NearDuplicateStage(
          options.nearDuplicateDistance,
          primary.preprocess.limitInputPixels,
          flights,
          results,
        );
  const pageRendering: PageRendering = {
    limits: primary.preprocess.limits,
    quality: primary.preprocess.quality,
    limitInputPixels: primary.preprocess.limitInputPixels,
  };
  const { triage, escalation, cascadeConfig } = cascadeSetup(options, pattern, primary, cache);
  const answers = { primary, budget: options.maxImageTokens, triage, escalation };
  const { settings, keyFor, extractionKey } = answerKeys({
    pattern,
    answers,
    documents: documentSettings,
    nearDuplicateDistance: options.nearDuplicateDistance,
  });
  const miss: CacheMissOptions = {
    results,
    near,
    cascadeConfig,
    runId,
    failures,
    claims: cache.claims,
    claimLeaseMs: cache.claimLeaseMs,
    extractionKey,
  };
  const records = new RecordAssembler({
    pattern: pattern.name,
    provider: provider.id,
    model: primary.model,
    profile: primary.profileName,
  });
  const sourceLimits = options.sourceLimits ?? {};
  const identify = new IdentifyStage({ cache, results, records, sourceLimits, keyFor, runId });
  const maxRequestTokens = options.documents?.maxRequestTokens;
  return {
    runId,
    settings,
    results,
    records,
    flights,
    near,
    identify,
    cascadeConfig,
    keyFor,
    miss,
    pageRendering,
    documents: { pattern, primary, documents: documentSettings, pageRendering, maxRequestTokens },
  };
}
