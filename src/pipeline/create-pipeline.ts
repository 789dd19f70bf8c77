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
 * the stages built from them (image-stages), one input read to its records (input-reader,
 * document-reader for pages; item-reader for run inputs), each in its trace span
 * (traced-process).
 */
import { streamWindow } from '../flow/stream-window.js';
import type { InputItem } from '../runs/inputs.js';
import { BatchStage } from './batch-stage.js';
import { imageStages } from './image-stages.js';
import { InputReader } from './input-reader.js';
import { itemReader } from './item-reader.js';
import { openPipelineResources } from './pipeline-resources.js';
import type { RunRecord } from './record.js';
import { planImage } from './sizing.js';
import type { Pipeline, PipelineOptions } from './spec.js';
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
  const { pages } = documentSettings;
  const model = primary.model;
  const stages = imageStages(resources, options);
  const reader = new InputReader(stages);
  const batch = new BatchStage({
    ...stages,
    pattern,
    provider,
    model,
    primary,
    cache,
    priceTable: options.priceTable,
    startDocument: (loaded, label, start, earlierPages) =>
      reader.documents.start(loaded, label, pages, start, earlierPages, {}),
  });
  const read = tracedProcess(pattern.name, (source, call, mode, stream) =>
    reader.read(source, call, mode, stream),
  );
  const readItem = itemReader(stages.records, read);
  const first = (records: Promise<RunRecord[]>) => records.then(([record]) => record!);
  return {
    pattern,
    provider,
    model,
    profile: primary.profileName,
    runId: stages.runId,
    cache,
    settings: stages.settings,
    cacheKey: stages.keyFor,
    pageRendering: stages.pageRendering,
    plan: (width, height) =>
      planImage(provider, model, pattern, primary.preprocess.limits, options.maxImageTokens, width, height),
    process: (source, call = {}) => first(read(source, call, 'document', {})),
    processAll: (source, call = {}) => read(source, call, pages, {}),
    processItem: (item, signal, earlier) => first(readItem(item, signal, earlier, 'document')),
    processItemAll: (item, signal, earlier, stream) => readItem(item, signal, earlier, pages, stream),
    defer: (item, signal, earlier) => batch.defer(item, signal, earlier),
    deliver: (customId, answer) => batch.deliver(customId, answer),
    // Records leave as each is finished (a document's pages one by one), its pages sharing the window's slots.
    run: (inputs, runOptions = {}) =>
      streamWindow<InputItem, RunRecord>(
        inputs,
        runOptions.concurrency ?? 4,
        async (item, emit, slots) => {
          await readItem(item, runOptions.signal, undefined, pages, { slots, onRecord: emit });
        },
        runOptions.stop ? { stop: runOptions.stop } : {},
      ),
    /** Closes what the pipeline opened itself: a provider given by id, a cache given as options. */
    close: () => resources.close(),
  };
}
