/**
 * What a run read, sent and worked out, counted the same way by the run summary (text and
 * `--json`), the Prometheus metrics and the report, from records alone:
 *
 * - **bytes in** (`original`): the size of every input read, once per input. A document
 *   (PDF, multi-page TIFF, HEIC) is one input however many records it gives: its records
 *   all carry the file's size (`image.original_bytes`), counted once per document (its
 *   `input` and `document_sha256`), in either `--pages` mode.
 * - **bytes sent** (`sent`): the prepared image bytes that went to a provider in this run's
 *   calls (`image.bytes` of records with `attempts > 0`, or with calls refused by a 429
 *   before a stop aborted them: wentOverTheWire; every page of a document sent
 *   together, or each page of `--pages each`). Cached, duplicate and resumed records sent
 *   nothing. A retried call sends the same bytes again: those count as requests
 *   (`visionpipe_provider_requests_total`), not here.
 * - **original of what was sent** (`original_sent`): bytes in of the inputs that were sent,
 *   the base of the size reduction ("-84 %"): an input answered from the cache is not
 *   "reduced by 100 %".
 * - **worked images** (`images`): plain images plus document pages whose answer was worked
 *   out in this run (read, rendered, sent, or found blank), not taken from the cache or a
 *   duplicate: a page counts as one image. `documents`: the documents among them. These
 *   are what the rates (images/hour, documents/hour) count.
 */
import type { RunRecord } from '../pipeline/record.js';
import { INPUT_REFUSAL_CODES, refusedBeforeCall } from '../pipeline/refusal.js';
import { isAborted } from './quality.js';

/** Record fields the volume figures read (run records and report records alike). */
export type VolumeRecord = Pick<RunRecord, 'input' | 'cache' | 'attempts' | 'sha256' | 'status'> & {
  error?: { code: string } | null | undefined;
  image?: Pick<NonNullable<RunRecord['image']>, 'bytes' | 'original_bytes'> | null | undefined;
  page?: number | undefined;
  pages?: number | undefined;
  pages_sent?: number | undefined;
  blank_pages?: readonly number[] | undefined;
  document_sha256?: string | undefined;
  /** Calls refused (429/overloaded): each sent the image, though none was answered. */
  rate_limited?: Pick<RunRecord['rate_limited'], 'count'> | undefined;
};

export interface Volume {
  bytes: { original: number; sent: number; original_sent: number };
  /** Images (a document page counts as one) worked out in this run, not reused. */
  images: number;
  /** Of `images`, the document pages. */
  pages: number;
  /** Documents with at least one page worked out in this run. */
  documents: number;
  /** Records answered from the cache or by a duplicate (hit, dedup, near-dup): nothing worked out. */
  reused: number;
}

/** True when the record's answer was reused: a cache hit, a duplicate or a near-duplicate. */
export function isReused(record: Pick<RunRecord, 'cache'>): boolean {
  return record.cache === 'hit' || record.cache === 'dedup' || record.cache === 'near-dup';
}

/**
 * True when this run worked the record's answer out: the input was read and either a call
 * was made (`attempts > 0`) or it ended without one as ok or skipped (the local engine, a
 * blank page, triage). An input that failed before any call (unsupported, undecodable,
 * too large) was not processed, nor was one ABORTED in flight by a stop: the rates do not
 * count them.
 */
export function isWorked(
  record: Pick<RunRecord, 'cache' | 'attempts' | 'sha256' | 'status'> & {
    error?: { code: string } | null | undefined;
  },
): boolean {
  if (isReused(record) || record.sha256 === null || isAborted(record)) return false;
  return record.attempts > 0 || record.status !== 'error';
}

/** The codes that say an input is not a usable image or document (pipeline/refusal.ts). */
export { INPUT_REFUSAL_CODES };

/**
 * What became of an input this run read (one definition for the run summary, text and
 * `--json`, and `report`): `processed` when its answer was worked out or reused from the
 * cache or a duplicate; `refused` when it failed before any call because it is not a usable
 * image or document (INPUT_REFUSAL_CODES: not an image, damaged, too large); `unanswered`
 * when a good input got no answer for another reason (every call refused by a 429, an open
 * circuit, a missing key: an error, not the input's fault); null when it was not read
 * (missing) or was stopped in flight (ABORTED).
 */
export function readOutcome(
  record: Pick<RunRecord, 'cache' | 'attempts' | 'sha256' | 'status'> & {
    error?: { code: string } | null | undefined;
  },
): 'processed' | 'refused' | 'unanswered' | null {
  if (record.sha256 === null || isAborted(record)) return null;
  if (isWorked(record) || isReused(record)) return 'processed';
  return INPUT_REFUSAL_CODES.has(record.error?.code ?? '') ? 'refused' : 'unanswered';
}

/**
 * The record's cache lookup as the summary and `report` count it, the one `cache stats`
 * counts (one per input read): `hit`, `dedup`, `near-dup` or `miss`; null for an input
 * refused before any call (not an image, undecodable, too large: pipeline/refusal.ts),
 * whose record says `cache: null` (results files written before it said `miss`).
 */
export function cacheLookupOf(
  record: Pick<RunRecord, 'cache' | 'attempts' | 'sha256' | 'status'> & {
    error?: { code: string } | null | undefined;
  },
): RunRecord['cache'] | null {
  if (record.status === 'error' && refusedBeforeCall(record.error?.code, record.attempts)) return null;
  return record.cache;
}

/**
 * True when the record's image went to a provider in this run: a call was made
 * (`attempts > 0`), or calls were refused (429/overloaded: the request carried the image)
 * before a stop aborted it. An image held before its first send went nowhere.
 */
export function wentOverTheWire(record: Pick<VolumeRecord, 'attempts' | 'rate_limited'>): boolean {
  return record.attempts > 0 || (record.rate_limited?.count ?? 0) > 0;
}

/** Images one worked record stands for: 1, or a document record's pages rendered (sent and blank). */
export function imagesOf(record: VolumeRecord): number {
  if (record.pages === undefined || record.page !== undefined) return 1;
  return (record.pages_sent ?? 0) + (record.blank_pages?.length ?? 0);
}

/**
 * Adds records up into a Volume. Memory: the keys of the documents seen; `recentDocuments`
 * bounds it for a long-lived process (a document's records are published together, so
 * remembering the last few is enough there); unbounded by default.
 */
export class VolumeTally {
  private readonly totals: Volume = {
    bytes: { original: 0, sent: 0, original_sent: 0 },
    images: 0,
    pages: 0,
    documents: 0,
    reused: 0,
  };
  private readonly read = new Set<string>();
  private readonly sentFrom = new Set<string>();
  private readonly worked = new Set<string>();

  constructor(private readonly recentDocuments = Number.POSITIVE_INFINITY) {}

  /** Adds one record of this run; returns what it added. */
  add(record: VolumeRecord): Volume {
    const added: Volume = {
      bytes: { original: 0, sent: 0, original_sent: 0 },
      images: 0,
      pages: 0,
      documents: 0,
      reused: 0,
    };
    const documentKey =
      record.document_sha256 === undefined ? undefined : `${record.input}\0${record.document_sha256}`;
    const firstTime = (set: Set<string>) => {
      if (documentKey === undefined) return true;
      if (set.has(documentKey)) return false;
      set.add(documentKey);
      if (set.size > this.recentDocuments) set.delete(set.values().next().value as string);
      return true;
    };
    const original = record.image?.original_bytes ?? 0;
    if (record.image && firstTime(this.read)) added.bytes.original = original;
    if (record.image && wentOverTheWire(record)) {
      added.bytes.sent = record.image.bytes;
      if (firstTime(this.sentFrom)) added.bytes.original_sent = original;
    }
    if (isReused(record)) added.reused = 1;
    else if (isWorked(record)) {
      added.images = imagesOf(record);
      if (record.pages !== undefined) {
        added.pages = added.images;
        if (firstTime(this.worked)) added.documents = 1;
      }
    }
    const t = this.totals;
    t.bytes.original += added.bytes.original;
    t.bytes.sent += added.bytes.sent;
    t.bytes.original_sent += added.bytes.original_sent;
    t.images += added.images;
    t.pages += added.pages;
    t.documents += added.documents;
    t.reused += added.reused;
    return added;
  }

  toJSON(): Volume {
    return { ...this.totals, bytes: { ...this.totals.bytes } };
  }
}

/**
 * Images (or documents) per hour: `count` over `seconds`; null when nothing was worked out
 * or no time passed: no rate over nothing (the summary and `report` print "–").
 */
export function perHour(count: number, seconds: number): number | null {
  return seconds > 0 && count > 0 ? Math.round((count / seconds) * 3600) : null;
}
