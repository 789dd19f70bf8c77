/**
 * A batch run: input items through the pipeline in a sliding window, each finished
 * record handed out with the item it came from (for per-input output files).
 */
import { mapWindow } from '../flow/window.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import type { RunRecord } from '../pipeline/record.js';
import type { InputItem } from './inputs.js';

export interface BatchResult {
  item: InputItem;
  record: RunRecord;
}

export interface BatchOptions {
  concurrency: number;
  /** First Ctrl-C: start nothing new. */
  stop?: AbortSignal;
  /** Second Ctrl-C / shutdown: abort what is in flight. */
  signal?: AbortSignal;
}

export function runBatch(
  items: AsyncIterable<InputItem>,
  pipeline: Pipeline,
  options: BatchOptions,
): AsyncGenerator<BatchResult> {
  return mapWindow(
    items,
    options.concurrency,
    async (item) => ({ item, record: await pipeline.processItem(item, options.signal) }),
    {
      ...(options.stop ? { stop: options.stop } : {}),
    },
  );
}
