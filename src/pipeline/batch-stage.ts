/**
 * Provider batch APIs (half price, answers within 24 h): an image goes as far as the
 * provider call with defer(), which returns the request to put in a batch (or the finished
 * record when no call is needed: cache hit, duplicate, triage skip, bad input); deliver()
 * hands the batch's answer to that request and settles its record. Custom ids derive from
 * the content key, so a resumed run finds the same requests in the same batch.
 * This file is the stage: inputs and documents in, requests out, answers back. Beside it:
 * batch-requests (one image up to the call: cache, single flight, triage, sizing) and
 * batch-answers (one answer priced, validated and cached into the image's outcome).
 */
import type { VisionpipeError } from '../errors.js';
import type { BatchRequest } from '../providers/batch/spec.js';
import type { ExtractResult } from '../providers/spec.js';
import type { InputItem } from '../runs/inputs.js';
import { type BatchAnswerSettings, type BatchWaiting, batchAnswerOutcome } from './batch-answers.js';
import { type BatchRequestSettings, queueForBatch } from './batch-requests.js';
import type { EarlierPages, StartedDocument, StartedRead } from './document-stage.js';
import type { IdentifyStage } from './identify-stage.js';
import { sourceOfItem } from './input-source.js';
import type { Deferred, EarlierRecord } from './spec.js';
import type { LoadedInput } from './stages.js';

export interface BatchStageOptions extends BatchRequestSettings, BatchAnswerSettings {
  identify: IdentifyStage;
  /** The result-cache key of a content hash (a page's) under this pipeline. */
  keyFor: (sha256: string) => string;
  /**
   * A document's pages rendered and each handed to `start` (document-stage, in the run's
   * pages mode); undefined when the bytes are an image.
   */
  startDocument: (
    loaded: LoadedInput,
    label: string,
    start: (page: LoadedInput, pageLabel: string) => Promise<StartedRead>,
    earlierPages: EarlierPages | undefined,
  ) => Promise<StartedDocument | undefined>;
}

export class BatchStage {
  /** Requests waiting for their batch result, by custom id. */
  private readonly waiting = new Map<string, BatchWaiting>();

  constructor(private readonly options: BatchStageOptions) {}

  /** Everything up to the provider call: the request to batch, or the record when none is needed. */
  async defer(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<Deferred> {
    const { identify, records, keyFor, startDocument } = this.options;
    const started = performance.now();
    if (item.kind === 'error') return { kind: 'done', record: records.itemError(item) };
    const source = sourceOfItem(item);
    try {
      const known = await identify.identify(source, item.label, started, signal, earlier);
      if ('record' in known) return { kind: 'done', record: known.record };
      const { loaded, key } = known;
      // A document: its pages rendered and queued as the direct flow reads them (document-stage).
      const requests: BatchRequest[] = [];
      const document = await startDocument(
        loaded,
        item.label,
        async (page, pageLabel) => {
          const queued = await this.queue(
            { loaded: page, key: keyFor(page.sha256), label: pageLabel, started: performance.now() },
            signal,
            true,
          );
          if (queued.request) requests.push(queued.request);
          return { record: queued.record };
        },
        known.earlierPages,
      );
      if (document) return { kind: 'document', requests, records: document.records };
      const queued = await this.queue({ loaded, key, label: item.label, started }, signal, false);
      if (queued.request) return { kind: 'request', request: queued.request, record: queued.record };
      return queued.known
        ? { kind: 'done', record: await queued.record }
        : { kind: 'waiting', record: queued.record };
    } catch (error) {
      return { kind: 'done', record: records.inputError(error, item.label, started) };
    }
  }

  /** One loaded image up to the provider call (batch-requests.ts). */
  private queue(
    image: { loaded: LoadedInput; key: string; label: string; started: number },
    signal: AbortSignal | undefined,
    lookup: boolean,
  ): ReturnType<typeof queueForBatch> {
    return queueForBatch(this.options, this.waiting, image, signal, lookup);
  }

  /** Settles the record of the request `customId` with its batch answer (or per-request error). */
  async deliver(
    customId: string,
    answer: { result?: ExtractResult; error?: VisionpipeError },
  ): Promise<void> {
    const entry = this.waiting.get(customId);
    if (!entry) return;
    this.waiting.delete(customId);
    entry.resolve(await batchAnswerOutcome(entry, answer, this.options));
  }
}
