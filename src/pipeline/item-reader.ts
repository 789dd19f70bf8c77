/**
 * One run input (an `InputItem` from runs/inputs: a source to read, or an entry that
 * could not even be listed) to its records. A listing error becomes its error record,
 * streamed like any other, without a read; a source is read with its label, abort signal
 * and earlier record (resume).
 */
import type { PagesMode } from '../documents/pages-mode.js';
import type { InputItem } from '../runs/inputs.js';
import { sourceOfItem } from './input-source.js';
import type { RunRecord } from './record.js';
import type { RecordAssembler } from './record-assembly.js';
import type { EarlierRecord, RecordStream } from './spec.js';
import type { ReadInput } from './traced-process.js';

/** Reads one run input to its records (one, or a document's pages in `mode`). */
export type ReadItem = (
  item: InputItem,
  signal: AbortSignal | undefined,
  earlier: EarlierRecord | undefined,
  mode: PagesMode,
  stream?: RecordStream,
) => Promise<RunRecord[]>;

/** `read` for run inputs; `records` makes a listing error's record. */
export function itemReader(records: Pick<RecordAssembler, 'itemError'>, read: ReadInput): ReadItem {
  return (item, signal, earlier, mode, stream = {}) => {
    if (item.kind === 'error') {
      const record = records.itemError(item);
      stream.onRecord?.(record);
      return Promise.resolve([record]);
    }
    return read(
      sourceOfItem(item),
      { label: item.label, ...(signal ? { signal } : {}), ...(earlier ? { earlier } : {}) },
      mode,
      stream,
    );
  };
}
