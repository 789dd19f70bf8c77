/**
 * One input read to its records, as `run`, `worker` and `serve` all read it: content
 * identified (identify-stage: stat memo or read + sha256, resume, input errors), then a
 * document's pages each read as an image (document-reader), or the image itself: the
 * result cache (a hit: this run's own is `dedup`), else one single flight per key so
 * concurrent duplicates share one cache miss (cache-miss: claims, near-duplicates,
 * cascade, save), and the record assembled. Never throws: an input that cannot be read
 * is an error record naming it.
 */
import { stat } from 'node:fs/promises';
import type { SingleFlight } from '../cache/single-flight.js';
import type { PagesMode } from '../documents/pages-mode.js';
import type { ImageSource } from '../image/source.js';
import { type CacheMissOptions, onCacheMiss } from './cache-miss.js';
import type { ResultCacheStage } from './cache-stage.js';
import { DocumentReader, type DocumentReaderOptions } from './document-reader.js';
import type { IdentifyStage } from './identify-stage.js';
import { filePathOf, labelOf } from './input-source.js';
import type { Outcome } from './outcome.js';
import type { RunRecord } from './record.js';
import type { RecordAssembler } from './record-assembly.js';
import { refusedBeforeCall } from './refusal.js';
import type { ProcessOptions, RecordStream } from './spec.js';
import type { LoadedInput } from './stages.js';

export interface InputReaderOptions {
  identify: IdentifyStage;
  results: ResultCacheStage;
  records: RecordAssembler;
  /** Shared with the batch stage: one cache miss per key in this process. */
  flights: SingleFlight<Outcome>;
  miss: CacheMissOptions;
  /** The result-cache key of a content hash (sha256, hex). */
  keyFor: (sha256: string) => string;
  /** How documents are rendered and sized (their pages are read by this reader). */
  documents: Omit<DocumentReaderOptions, 'readPage'>;
}

export class InputReader {
  /** Documents' pages, each read by `readImage`; the batch stage starts documents through it too. */
  readonly documents: DocumentReader;

  constructor(private readonly options: InputReaderOptions) {
    this.documents = new DocumentReader({
      ...options.documents,
      readPage: (page, label, signal) => this.readImage(page, label, signal),
    });
  }

  /** One loaded image (or a document's page) after identification, to its record. */
  async readImage(loaded: LoadedInput, label: string, signal: AbortSignal | undefined): Promise<RunRecord> {
    const { results, records, keyFor, miss } = this.options;
    const started = performance.now();
    const key = keyFor(loaded.sha256);
    const hit = await results.lookup(key);
    if (hit) return records.hit(label, started, hit, hit.run_id === miss.runId ? 'dedup' : 'hit');
    return this.missed(loaded, key, label, started, signal);
  }

  /** One input to its records: one for an image, a document's by its pages mode. */
  async read(
    source: ImageSource,
    call: ProcessOptions,
    mode: PagesMode,
    stream: RecordStream,
  ): Promise<RunRecord[]> {
    const { identify, records } = this.options;
    const label = call.label ?? labelOf(source);
    const started = performance.now();
    try {
      const known = await identify.identify(source, label, started, call.signal, call.earlier);
      if ('record' in known) return [known.record];
      const { loaded, key } = known;
      const document = await this.documents.read(
        loaded,
        label,
        call.signal,
        mode,
        known.earlierPages,
        stream,
      );
      if (document) {
        // A document refused whole (damaged, encrypted, too many pages): the lookup of its
        // key was none worth counting, as for an image that does not decode.
        if (document.length === 1 && refusedWhole(document[0]!)) this.options.miss.results.withdraw(key);
        return document;
      }
      return [await this.missed(loaded, key, label, started, call.signal)];
    } catch (error) {
      return [records.inputError(error, label, started, await sizeOnDisk(source))];
    }
  }

  /** The cache miss of `key`, shared by concurrent duplicates, to this input's record. */
  private async missed(
    loaded: LoadedInput,
    key: string,
    label: string,
    started: number,
    signal: AbortSignal | undefined,
  ): Promise<RunRecord> {
    const { flights, records, miss } = this.options;
    const { promise, leader } = flights.run(key, () => onCacheMiss(miss, loaded, key, signal));
    const outcome = await promise;
    // A duplicate waiting on a leader that took another process's result is recorded a hit:
    // a re-check turns the miss its own lookup counted into that hit (cache stats = records).
    if (!leader && outcome.kind === 'shared') await miss.results.lookup(key, { recheck: true });
    // Not an image at all: its lookup was none worth counting (its record's cache is null).
    if (outcome.kind === 'failed' && refusedBeforeCall(outcome.error.code, outcome.attempts))
      miss.results.withdraw(key);
    return records.of(outcome, { label, started, sha256: loaded.sha256, leader, bytes: loaded.bytes.length });
  }
}

/** A document's one record refusing it before any page was sent. */
function refusedWhole(record: RunRecord): boolean {
  return (
    record.status === 'error' &&
    record.page === undefined &&
    refusedBeforeCall(record.error?.code, record.attempts)
  );
}

/** The size of a file source on disk (a failed input's `input_bytes`); null for others or when unknown. */
async function sizeOnDisk(source: ImageSource): Promise<number | null> {
  const file = filePathOf(source);
  if (file === undefined) return null;
  return stat(file).then(
    (info) => (info.isFile() ? info.size : null),
    () => null,
  );
}
