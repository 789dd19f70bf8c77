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
import { documentKind } from '../documents/kinds.js';
import { resolveDocumentOptions } from '../documents/options.js';
import type { PagesMode } from '../documents/pages-mode.js';
import { streamWindow } from '../flow/stream-window.js';
import type { ThrottleTally } from '../flow/throttle.js';
import { preprocessFingerprint } from '../image/options.js';
import type { ImageSource } from '../image/source.js';
import { publish } from '../observe/events.js';
import { failSpan, inSpan } from '../observe/spans.js';
import { loadPattern } from '../patterns/index.js';
import { createProvider } from '../providers/registry.js';
import type { InputItem } from '../runs/inputs.js';
import { answerOptions, answerSettings, extractionOptions } from './answer-settings.js';
import { BatchStage } from './batch-stage.js';
import { onCacheMiss } from './cache-miss.js';
import { ResultCacheStage } from './cache-stage.js';
import { callControls } from './call-controls.js';
import type { CascadeConfig } from './cascade.js';
import {
  type DocumentSettings,
  type EarlierPages,
  type StartedDocument,
  type StartedRead,
  singlePageRange,
  startDocument,
} from './document-stage.js';
import { FailureMemory } from './failure-memory.js';
import { IdentifyStage } from './identify-stage.js';
import { labelOf, sourceOfItem } from './input-source.js';
import { choose, chooseCascadeModels } from './model-choice.js';
import { NearDuplicateStage } from './near-duplicate-stage.js';
import type { Outcome } from './outcome.js';
import type { RunRecord } from './record.js';
import { RecordAssembler } from './record-assembly.js';
import { estimateExtract, planImage } from './sizing.js';
import {
  type EarlierRecord,
  earlierRecords,
  type PageRendering,
  type Pipeline,
  type PipelineOptions,
  type ProcessOptions,
  type RecordStream,
} from './spec.js';
import { type LoadedInput, resultKeyFor } from './stages.js';

export { triageQuestion } from './model-choice.js';
export type {
  Deferred,
  DocumentOptions,
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
  // Checked at the edge, before anything is opened: INVALID_OPTION naming the option.
  const documentSettings: DocumentSettings = resolveDocumentOptions(options.documents);
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
  const results = new ResultCacheStage(cache, warn, provider.id);
  const failures = new FailureMemory(
    cache,
    warn,
    { provider: provider.id, model },
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
  const runId = randomUUID();
  const pageRendering: PageRendering = {
    limits: primary.preprocess.limits,
    quality: primary.preprocess.quality,
    limitInputPixels: primary.preprocess.limitInputPixels,
  };
  const maxRequestTokens = options.documents?.maxRequestTokens;
  /** Estimated tokens of one extraction request carrying these pages (as extractStage counts them). */
  const requestTokens = (pages: ReadonlyArray<{ width: number; height: number }>): number => {
    const [first, ...rest] = pages;
    if (!first) return 0;
    const estimate = estimateExtract(provider, first.width, first.height, pattern, model);
    let tokens = estimate.input_tokens + estimate.output_tokens;
    for (const page of rest) tokens += provider.estimateImageTokens(page.width, page.height, model);
    return tokens;
  };
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
  // The pages mode changes what a record is (a document or a page): part of resume's signature.
  // In document mode the record is the answer for the pages selected, so the page range is too
  // (each mode keys its lines by page, so another range resumes page by page).
  const documentSignature =
    documentSettings.pages === 'document' && documentSettings.pageRange
      ? [documentSettings.pages, documentSettings.pageRange]
      : [documentSettings.pages];
  const settings = JSON.stringify([answerSettings(answers), ...documentSignature]);
  const keyOptions = answerOptions(answers);
  const primaryPreprocess = preprocessFingerprint(primary.preprocess);
  const keyWith = (options: string) => (sha256: string) =>
    resultKey({
      sha256,
      patternFingerprint: pattern.fingerprint,
      provider: provider.id,
      model,
      preprocess: primaryPreprocess,
      options,
    });
  const keyFor = keyWith(keyOptions);
  // Triage only decides whether to extract: the extraction is also kept under a key without it.
  const extractionKeyFor = keyWith(extractionOptions(answers));
  const extractionKey = triage
    ? (loaded: LoadedInput) => resultKeyFor(extractionKeyFor(loaded.sha256), loaded)
    : undefined;

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
  const missOptions = { results, near, cascadeConfig, runId, failures, claims: cache.claims, extractionKey };
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
    keyFor,
    startDocument: (loaded, label, start, earlierPages) =>
      startDocumentOf(loaded, label, documentSettings.pages, start, earlierPages, {}),
  });

  /** One loaded image (or a document's first page carrying the others) after identification. */
  async function read(
    loaded: LoadedInput,
    label: string,
    signal: AbortSignal | undefined,
  ): Promise<RunRecord> {
    const started = performance.now();
    const key = keyFor(loaded.sha256);
    const hit = await results.lookup(key);
    if (hit) return records.hit(label, started, hit, hit.run_id === runId ? 'dedup' : 'hit');
    const { promise, leader } = flights.run(key, () => onCacheMiss(missOptions, loaded, key, signal));
    return records.of(await promise, { label, started, sha256: loaded.sha256, leader });
  }

  /**
   * A document's pages rendered (blank ones set aside) and each handed to `start`, with its
   * records to come; undefined when the bytes are an image after all. Direct calls and
   * provider batch APIs share it: only `start` differs.
   */
  function startDocumentOf(
    loaded: LoadedInput,
    label: string,
    mode: PagesMode,
    start: (page: LoadedInput, pageLabel: string) => Promise<StartedRead>,
    earlierPages: EarlierPages | undefined,
    stream: RecordStream,
  ): Promise<StartedDocument | undefined> {
    const kind = documentKind(loaded.bytes);
    if (!kind) {
      const base = { pattern: pattern.name, provider: provider.id, model };
      return Promise.resolve(
        singlePageRange(loaded.bytes, label, documentSettings, { base, profile: primary.profileName }),
      );
    }
    return startDocument(
      loaded.bytes,
      kind,
      label,
      { ...documentSettings, pages: mode },
      {
        pattern,
        base: { pattern: pattern.name, provider: provider.id, model },
        profile: primary.profileName,
        ...pageRendering,
        providerLimits: provider.limits,
        start,
        requestTokens,
        ...(maxRequestTokens === undefined ? {} : { maxRequestTokens }),
        ...(stream.slots ? { slots: stream.slots } : {}),
        ...(stream.onRecord ? { onRecord: stream.onRecord } : {}),
      },
      earlierPages,
    );
  }

  /**
   * The records of a document, undefined for an image. Pages are read side by side on the
   * free slots of `stream`, else one after another; each page record of `each` mode goes to
   * `stream.onRecord` as it is finished.
   */
  async function readDocument(
    loaded: LoadedInput,
    label: string,
    signal: AbortSignal | undefined,
    mode: PagesMode,
    earlierPages: EarlierPages | undefined,
    stream: RecordStream,
  ): Promise<RunRecord[] | undefined> {
    const started = await startDocumentOf(
      loaded,
      label,
      mode,
      async (page, pageLabel) => ({ record: Promise.resolve(await read(page, pageLabel, signal)) }),
      earlierPages,
      stream,
    );
    return started?.records;
  }

  /**
   * One input in its trace span, each of its records published when finished (observe/);
   * an earlier run's record handed back is not.
   */
  async function processWith(
    source: ImageSource,
    call: ProcessOptions,
    mode: PagesMode,
    stream: RecordStream = {},
  ): Promise<RunRecord[]> {
    let handedBack: ReadonlySet<RunRecord> = new Set();
    const emitted = new Set<RunRecord>();
    /** Each record once, as soon as it is finished: published (unless handed back) and streamed. */
    const emit = (one: RunRecord) => {
      if (emitted.has(one)) return;
      emitted.add(one);
      if (!handedBack.has(one)) publish('image', { record: one });
      stream.onRecord?.(one);
    };
    const earlier = call.earlier;
    const label = call.label ?? labelOf(source);
    return inSpan(
      'visionpipe.image',
      { 'visionpipe.input': label, 'visionpipe.pattern': pattern.name },
      async (span) => {
        const all = await processUntraced(
          source,
          earlier
            ? {
                ...call,
                earlier: (sha256) => {
                  const given = earlier(sha256);
                  handedBack = new Set(earlierRecords(given));
                  return given;
                },
              }
            : call,
          mode,
          { ...(stream.slots ? { slots: stream.slots } : {}), onRecord: emit },
        );
        const record = all[0]!;
        span.setAttributes({
          'visionpipe.status': record.status,
          'visionpipe.cache': record.cache ?? 'none',
          'visionpipe.attempts': all.reduce((sum, r) => sum + r.attempts, 0),
          'gen_ai.request.model': record.model,
        });
        const failed = all.find((r) => r.error);
        if (failed?.error) failSpan(span, failed.error.code, failed.error.message);
        for (const one of all) emit(one);
        return all;
      },
    );
  }

  async function processUntraced(
    source: ImageSource,
    call: ProcessOptions,
    mode: PagesMode,
    stream: RecordStream,
  ): Promise<RunRecord[]> {
    const label = call.label ?? labelOf(source);
    const started = performance.now();
    try {
      const known = await identify.identify(source, label, started, call.signal, call.earlier);
      if ('record' in known) return [known.record];
      const { loaded, key } = known;
      const document = await readDocument(loaded, label, call.signal, mode, known.earlierPages, stream);
      if (document) return document;
      const { promise, leader } = flights.run(key, () => onCacheMiss(missOptions, loaded, key, call.signal));
      return [records.of(await promise, { label, started, sha256: loaded.sha256, leader })];
    } catch (error) {
      return [records.inputError(error, label, started)];
    }
  }

  async function process(source: ImageSource, call: ProcessOptions = {}): Promise<RunRecord> {
    const [record] = await processWith(source, call, 'document');
    return record!;
  }

  function processItemWith(
    item: InputItem,
    signal: AbortSignal | undefined,
    earlier: EarlierRecord | undefined,
    mode: PagesMode,
    stream: RecordStream = {},
  ): Promise<RunRecord[]> {
    if (item.kind === 'error') {
      const record = records.itemError(item);
      stream.onRecord?.(record);
      return Promise.resolve([record]);
    }
    return processWith(
      sourceOfItem(item),
      { label: item.label, ...(signal ? { signal } : {}), ...(earlier ? { earlier } : {}) },
      mode,
      stream,
    );
  }

  async function processItem(
    item: InputItem,
    signal?: AbortSignal,
    earlier?: EarlierRecord,
  ): Promise<RunRecord> {
    const [record] = await processItemWith(item, signal, earlier, 'document');
    return record!;
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
    pageRendering,
    plan: (width, height) =>
      planImage(provider, model, pattern, primary.preprocess.limits, options.maxImageTokens, width, height),
    process,
    processAll: (source, call = {}) => processWith(source, call, documentSettings.pages),
    processItem,
    processItemAll: (item, signal, earlier, stream) =>
      processItemWith(item, signal, earlier, documentSettings.pages, stream),
    defer: (item, signal, earlier) => batch.defer(item, signal, earlier),
    deliver: (customId, answer) => batch.deliver(customId, answer),
    // Records leave as each is finished (a document's pages one by one), its pages sharing the window's slots.
    run: (inputs, runOptions = {}) =>
      streamWindow<InputItem, RunRecord>(
        inputs,
        runOptions.concurrency ?? 4,
        async (item, emit, slots) => {
          await processItemWith(item, runOptions.signal, undefined, documentSettings.pages, {
            slots,
            onRecord: emit,
          });
        },
        runOptions.stop ? { stop: runOptions.stop } : {},
      ),
    /** Closes what the pipeline opened itself: a provider given by id, a cache given as options. */
    async close() {
      if (ownsProvider) await provider.close();
      if (ownsCache) await cache.close();
    },
  };
}
