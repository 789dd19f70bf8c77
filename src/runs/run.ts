/**
 * A batch run: input items through the pipeline in a sliding window, each finished
 * record handed out with the item it came from (for per-input output files). Items an
 * earlier run already finished are handed back as they were, without a provider call.
 */
import { mapWindow } from '../flow/window.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import type { RunRecord } from '../pipeline/record.js';
import type { InputItem } from './inputs.js';

export interface BatchResult {
  item: InputItem;
  record: RunRecord;
  /** True when the record comes from an earlier run of the same command. */
  resumed: boolean;
}

export interface BatchOptions {
  concurrency: number;
  /** First Ctrl-C: start nothing new. */
  stop?: AbortSignal;
  /** Second Ctrl-C / shutdown: abort what is in flight. */
  signal?: AbortSignal;
  /** The earlier record for an item, when it can be reused. */
  reuse?: (item: InputItem) => RunRecord | undefined;
}

/** The pipeline to read an item with: one for the whole run, or one per routing rule. */
export type PipelineChoice = Pipeline | ((item: InputItem) => Promise<Pipeline>);

export function runBatch(
  items: AsyncIterable<InputItem>,
  pipelines: PipelineChoice,
  options: BatchOptions,
): AsyncGenerator<BatchResult> {
  const pipelineFor = typeof pipelines === 'function' ? pipelines : async () => pipelines;
  return mapWindow(
    items,
    options.concurrency,
    async (item) => {
      const earlier = options.reuse?.(item);
      if (earlier) return { item, record: earlier, resumed: true };
      const pipeline = await pipelineFor(item);
      return { item, record: await pipeline.processItem(item, options.signal), resumed: false };
    },
    options.stop ? { stop: options.stop } : {},
  );
}
