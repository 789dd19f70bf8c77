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
 * composes the stages; each lives in its own module: options opened (pipeline-resources),
 * the cascade's models and call controls (cascade-setup), the keys answers are kept under
 * (answer-keys), one input read to its records (input-reader, document-reader for pages),
 * each in its trace span (traced-process).
 */
import { randomUUID } from 'node:crypto';
import { SingleFlight } from '../cache/single-flight.js';
import type { PagesMode } from '../documents/pages-mode.js';
import { streamWindow } from '../flow/stream-window.js';
import type { ImageSource } from '../image/source.js';
import type { InputItem } from '../runs/inputs.js';
import { answerKeys } from './answer-keys.js';
import { BatchStage } from './batch-stage.js';
import { ResultCacheStage } from './cache-stage.js';
import { cascadeSetup } from './cascade-setup.js';
import { FailureMemory } from './failure-memory.js';
import { IdentifyStage } from './identify-stage.js';
import { InputReader } from './input-reader.js';
import { sourceOfItem } from './input-source.js';
import { NearDuplicateStage } from './near-duplicate-stage.js';
import type { Outcome } from './outcome.js';
import { openPipelineResources } from './pipeline-resources.js';
import type { RunRecord } from './record.js';
import { RecordAssembler } from './record-assembly.js';
import { planImage } from './sizing.js';
import type {
  EarlierRecord,
  PageRendering,
  Pipeline,
  PipelineOptions,
  ProcessOptions,
  RecordStream,
} from './spec.js';
import { tracedProcess } from './traced-process.js';

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
  const resources = await openPipelineResources(options);
  const { documentSettings, pattern, provider, primary, cache } = resources;
  const model = primary.model;
  const runId = randomUUID();
  const warn = options.warn ?? (() => {});
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
  const pageRendering: PageRendering = {
    limits: primary.preprocess.limits,
    quality: primary.preprocess.quality,
    limitInputPixels: primary.preprocess.limitInputPixels,
  };
  const { triage, escalation, cascadeConfig } = cascadeSetup(options, pattern, primary, cache);
  const answers = { primary, budget: options.maxImageTokens, triage, escalation };
  const { settings, keyFor, extractionKey } = answerKeys({ pattern, answers, documents: documentSettings });
  const miss = { results, near, cascadeConfig, runId, failures, claims: cache.claims, extractionKey };
  const records = new RecordAssembler({
    pattern: pattern.name,
    provider: provider.id,
    model,
    profile: primary.profileName,
  });
  const sourceLimits = options.sourceLimits ?? {};
  const identify = new IdentifyStage({ cache, results, records, sourceLimits, keyFor, runId });
  const maxRequestTokens = options.documents?.maxRequestTokens;
  const documents = { pattern, primary, documents: documentSettings, pageRendering, maxRequestTokens };
  const reader = new InputReader({ identify, results, records, flights, miss, keyFor, documents });
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
      reader.documents.start(loaded, label, documentSettings.pages, start, earlierPages, {}),
  });
  const processWith = tracedProcess(pattern.name, (source, call, mode, stream) =>
    reader.read(source, call, mode, stream),
  );

  async function process(source: ImageSource, call: ProcessOptions = {}): Promise<RunRecord> {
    const [record] = await processWith(source, call, 'document', {});
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
    processAll: (source, call = {}) => processWith(source, call, documentSettings.pages, {}),
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
    close: () => resources.close(),
  };
}
