/**
 * A batch run: input items through the pipeline in a sliding window, each finished
 * record handed out with the item it came from (for per-input output files). Items an
 * earlier run already finished for the same content are handed back as they were,
 * without a provider call.
 */
import { streamWindow } from '../flow/stream-window.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import type { RunRecord } from '../pipeline/record.js';
import { type EarlierRecord, earlierRecords } from '../pipeline/spec.js';
import type { InputItem } from './inputs.js';

export interface BatchResult {
  item: InputItem;
  record: RunRecord;
  /** True when the record comes from an earlier run of the same command. */
  resumed: boolean;
}

/** An earlier run's record for an item with this content, or a document's page records. */
export type Reuse = (item: InputItem, sha256: string) => RunRecord | readonly RunRecord[] | undefined;

export interface BatchOptions {
  concurrency: number;
  /** First Ctrl-C: start nothing new. */
  stop?: AbortSignal;
  /** Second Ctrl-C / shutdown: abort what is in flight. */
  signal?: AbortSignal;
  /** The earlier record(s) for an item whose content (sha256) is this, when they can be reused. */
  reuse?: Reuse;
  /**
   * Told of each record the moment it is made, inside the window (before the consumer
   * sees it): what admits the next input (a cost budget) must not wait on the consumer.
   */
  onRecord?: (record: RunRecord) => void;
}

/** The pipeline to read an item with: one for the whole run, or one per routing rule. */
export type PipelineChoice = Pipeline | ((item: InputItem) => Promise<Pipeline>);

/**
 * The pipeline identifies an item's content first (stat memo or bytes), then asks `reuse`
 * through `check`; `handedBack` tells whether a record is the earlier one it gave.
 */
export function earlierProbe(
  reuse: Reuse | undefined,
  item: InputItem,
): { check: EarlierRecord; handedBack: (record: RunRecord) => boolean } | undefined {
  if (!reuse) return undefined;
  let earlier: ReadonlySet<RunRecord> = new Set();
  return {
    check: (sha256) => {
      const given = reuse(item, sha256);
      earlier = new Set(earlierRecords(given));
      return given;
    },
    handedBack: (record) => earlier.has(record),
  };
}

export function runBatch(
  items: AsyncIterable<InputItem>,
  pipelines: PipelineChoice,
  options: BatchOptions,
): AsyncGenerator<BatchResult> {
  const pipelineFor = typeof pipelines === 'function' ? pipelines : async () => pipelines;
  // A document read page by page gives several records for one item: each leaves the moment
  // it is finished (a run killed mid-document keeps its finished pages), and the pages
  // share the window's slots with the other inputs.
  return streamWindow<InputItem, BatchResult>(
    items,
    options.concurrency,
    async (item, emit, slots) => {
      const pipeline = await pipelineFor(item);
      const probe = earlierProbe(options.reuse, item);
      await pipeline.processItemAll(item, options.signal, probe?.check, {
        slots,
        onRecord: (record) => {
          options.onRecord?.(record);
          emit({ item, record, resumed: probe?.handedBack(record) ?? false });
        },
      });
    },
    options.stop ? { stop: options.stop } : {},
  );
}
