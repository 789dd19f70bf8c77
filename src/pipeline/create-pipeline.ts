/**
 * createPipeline(): the library's main entry point. One pipeline = one pattern, one
 * provider and model (plus optional triage and escalation models), one cache setup, one
 * run id. `process()` takes one image through every stage and always resolves to a
 * record (errors included); `run()` streams a batch through a sliding concurrency window.
 *
 * The flow of one image: content (stat memo or read + sha256: identify-stage) → result
 * cache (cache-stage) → single flight (concurrent duplicates share one call) →
 * near-duplicate check (opt-in: near-duplicate-stage) → cascade (triage → extraction within
 * the token budget → escalation: cache-miss, cascade) → save → record (record-assembly).
 * Batch APIs take the same path up to the provider call (batch-stage). This file only
 * composes the stages; each lives in its own module.
 */
import { randomUUID } from 'node:crypto';
import { resultKey } from '../cache/keys.js';
import { openCache } from '../cache/open-cache.js';
import { SingleFlight } from '../cache/single-flight.js';
import type { ThrottleTally } from '../flow/throttle.js';
import { mapWindow } from '../flow/window.js';
import { preprocessFingerprint } from '../image/options.js';
import type { ImageSource } from '../image/source.js';
import { publish } from '../observe/events.js';
import { failSpan, inSpan } from '../observe/spans.js';
import { loadPattern } from '../patterns/index.js';
import { createProvider } from '../providers/registry.js';
import type { InputItem } from '../runs/inputs.js';
import { answerOptions, answerSettings } from './answer-settings.js';
import { BatchStage } from './batch-stage.js';
import { onCacheMiss } from './cache-miss.js';
import { ResultCacheStage } from './cache-stage.js';
import { callControls } from './call-controls.js';
import type { CascadeConfig } from './cascade.js';
import { IdentifyStage } from './identify-stage.js';
import { labelOf, sourceOfItem } from './input-source.js';
import { choose, chooseCascadeModels } from './model-choice.js';
import { NearDuplicateStage } from './near-duplicate-stage.js';
import type { Outcome } from './outcome.js';
import type { RunRecord } from './record.js';
import { RecordAssembler } from './record-assembly.js';
import { planImage } from './sizing.js';
import type { EarlierRecord, Pipeline, PipelineOptions, ProcessOptions } from './spec.js';

export { triageQuestion } from './model-choice.js';
export type {
  Deferred,
  EarlierRecord,
  EscalationOptions,
  ImagePlan,
  Pipeline,
  PipelineOptions,
  ProcessOptions,
  RunBatchOptions,
  TriageOptions,
} from './spec.js';

export async function createPipeline(options: PipelineOptions): Promise<Pipeline> {
  const pattern = typeof options.pattern === 'string' ? await loadPattern(options.pattern) : options.pattern;
  const provider =
    typeof options.provider === 'object'
      ? options.provider
      : createProvider(options.provider ?? 'local', options.providerOptions);
  // A pipeline is for calling: a provider given by id without its key fails here, not per image.
  if (typeof options.provider !== 'object') provider.checkCredentials?.();
  const primary = choose(provider, options.model, options.profile, options.preprocess);
  const model = primary.model;
  const sourceLimits = options.sourceLimits ?? {};
  const warn = options.warn ?? (() => {});
  const cache =
    options.cache && 'results' in options.cache
      ? options.cache
      : await openCache({ spec: 'memory', warn, ...options.cache });
  const ownsCache = !(options.cache && 'results' in options.cache);
  const ownsProvider = typeof options.provider !== 'object';
  const results = new ResultCacheStage(cache, warn);
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
  const runId = randomUUID();
  const { triage, escalation } = chooseCascadeModels(options, pattern);
  const controlsFor = callControls({
    provider,
    limiter: options.limiter,
    breaker: options.breaker,
    retry: options.retry,
    timeoutMs: options.timeoutMs ?? 120_000,
    flow: options.flow,
  });

  // What besides content, pattern, provider and model changes answers: part of every key.
  const answers = { primary, budget: options.maxImageTokens, triage, escalation };
  const settings = answerSettings(answers);
  const keyOptions = answerOptions(answers);
  const primaryPreprocess = preprocessFingerprint(primary.preprocess);
  const keyFor = (sha256: string) =>
    resultKey({
      sha256,
      patternFingerprint: pattern.fingerprint,
      provider: provider.id,
      model,
      preprocess: primaryPreprocess,
      options: keyOptions,
    });

  const cascadeConfig = (signal: AbortSignal | undefined, tally?: ThrottleTally): CascadeConfig => ({
    pattern,
    primary,
    maxImageTokens: options.maxImageTokens,
    triage,
    escalation,
    images: cache.images,
    verdicts: cache.results,
    ttlMs: cache.ttlMs,
    priceTable: options.priceTable,
    controlsFor: (p) => controlsFor(p, signal, tally),
  });
  const records = new RecordAssembler({
    pattern: pattern.name,
    provider: provider.id,
    model,
    profile: primary.profileName,
  });
  const identify = new IdentifyStage({ cache, results, records, sourceLimits, keyFor, runId });
  const batch = new BatchStage({
    pattern,
    provider,
    model,
    primary,
    cache,
    results,
    records,
    identify,
    flights,
    near,
    cascadeConfig,
    priceTable: options.priceTable,
    runId,
  });

  /** One image in its trace span, published when finished (observe/); an earlier run's record handed back is not. */
  async function process(source: ImageSource, call: ProcessOptions = {}): Promise<RunRecord> {
    let handedBack: RunRecord | undefined;
    const earlier = call.earlier;
    const label = call.label ?? labelOf(source);
    return inSpan(
      'visionpipe.image',
      { 'visionpipe.input': label, 'visionpipe.pattern': pattern.name },
      async (span) => {
        const record = await processImage(
          source,
          earlier
            ? {
                ...call,
                earlier: (sha256) => {
                  handedBack = earlier(sha256);
                  return handedBack;
                },
              }
            : call,
        );
        span.setAttributes({
          'visionpipe.status': record.status,
          'visionpipe.cache': record.cache ?? 'none',
          'visionpipe.attempts': record.attempts,
          'gen_ai.request.model': record.model,
        });
        if (record.error) failSpan(span, record.error.code, record.error.message);
        if (record !== handedBack) publish('image', { record });
        return record;
      },
    );
  }

  async function processImage(source: ImageSource, call: ProcessOptions): Promise<RunRecord> {
    const label = call.label ?? labelOf(source);
    const started = performance.now();
    try {
      const known = await identify.identify(source, label, started, call.signal, call.earlier);
      if ('record' in known) return known.record;
      const { loaded, key } = known;
      const { promise, leader } = flights.run(key, () =>
        onCacheMiss({ results, near, cascadeConfig, runId }, loaded, key, call.signal),
      );
      return records.of(await promise, { label, started, sha256: loaded.sha256, leader });
    } catch (error) {
      return records.inputError(error, label, started);
    }
  }

  function processItem(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<RunRecord> {
    if (item.kind === 'error') return Promise.resolve(records.itemError(item));
    return process(sourceOfItem(item), {
      label: item.label,
      ...(signal ? { signal } : {}),
      ...(earlier ? { earlier } : {}),
    });
  }

  return {
    pattern,
    provider,
    model,
    profile: primary.profileName,
    runId,
    cache,
    settings,
    cacheKey: keyFor,
    plan: (width, height) =>
      planImage(provider, model, pattern, primary.preprocess.limits, options.maxImageTokens, width, height),
    process,
    processItem,
    defer: (item, signal, earlier) => batch.defer(item, signal, earlier),
    deliver: (customId, answer) => batch.deliver(customId, answer),
    run(inputs, runOptions = {}) {
      return mapWindow(inputs, runOptions.concurrency ?? 4, (item) => processItem(item, runOptions.signal), {
        ...(runOptions.stop ? { stop: runOptions.stop } : {}),
      });
    },
    /** Closes what the pipeline opened itself: a provider given by id, a cache given as options. */
    async close() {
      if (ownsProvider) await provider.close();
      if (ownsCache) await cache.close();
    },
  };
}
