/**
 * The result record: one per input, the JSONL contract users and tests rely on
 * (DESIGN.md). Every field is always present; absent values are null, so every line
 * of results.jsonl has the same shape.
 */
import { printable } from '../printable.js';
import type { Usage } from '../providers/spec.js';

/** `rate_limited` of a record that met no throttle. */
export const NO_RATE_LIMITS: Readonly<RunRecord['rate_limited']> = Object.freeze({ count: 0, wait_ms: 0 });

export type RecordStatus = 'ok' | 'error' | 'skipped';
export type CacheOutcome = 'hit' | 'miss' | 'dedup' | 'near-dup';

export interface CascadeInfo {
  /** The triage verdict, when triage ran (or was cached). */
  triage: { relevant: boolean; confidence: number; reason: string; provider: string; model: string } | null;
  /** `provider:model` whose result was replaced by the stronger model, and why. */
  escalated_from: string | null;
  escalation_reason: string | null;
  /**
   * How the answer was repaired: why it needed its one repair call (the first answer was
   * not JSON), and `unwrapped tool arguments from key "…"` when the output was read inside
   * one wrapper key (patterns/wrapped-output.ts); null when neither.
   */
  repair: string | null;
  /**
   * Present only when the provider refused the image's size (IMAGE_TOO_LARGE) and it was
   * sent once more, smaller: what was refused and what was sent (`profile` and `image`
   * say the second). `attempts`, `usage` and `cost_usd` count both calls. On an error
   * record too, when the smaller send failed (refused again, rate limited past the budget).
   */
  resized?: string;
  /**
   * Present only when a provider call was sent again after a failure that was not a rate
   * limit (a refused envelope, a 5xx, a dropped connection): each attempt that failed, its
   * code and message, "sent again". Rate-limit waits are `rate_limited`.
   */
  retried?: string;
  /**
   * Present only when the answer named a model that is not the one asked for nor a dated or
   * version alias of it: says so, and that the call was priced as the model asked for.
   */
  priced_as?: string;
}

export interface RunRecord {
  input: string;
  /** Name of the pattern the input was read with. */
  pattern: string;
  /** sha256 of the original bytes; null when the input could not be read. */
  sha256: string | null;
  status: RecordStatus;
  output: unknown;
  error: { code: string; message: string } | null;
  /**
   * The result-cache lookup: `hit`, `miss`, `dedup`, `near-dup`; null when there was none
   * worth counting: an input refused before any provider call (not an image, undecodable,
   * too large, missing; pipeline/refusal.ts), neither a hit nor a miss.
   */
  cache: CacheOutcome | null;
  /**
   * Error records of inputs refused before any provider call, and of inputs that could not
   * be read: the input's size in bytes (on disk for a file, as read for a URL or data),
   * null when not known (a missing file). Absent on other records (`image.original_bytes`).
   */
  input_bytes?: number | null;
  provider: string;
  model: string;
  /** Wall time of this input through the whole pipeline (load, preprocess, provider, validation). */
  latency_ms: number;
  /**
   * Provider calls made for this input that a throttle did not refuse (0 for cache hits and
   * failures before the call): what the `--max-attempts` budget counts. A call refused for
   * its size (IMAGE_TOO_LARGE, even as a 429) is one: no wait would have let it through.
   * `attempts + rate_limited.count` is every call made.
   */
  attempts: number;
  /**
   * Calls the provider refused with a rate limit or overload (429, 529, 503) and the time
   * waited after them (within `--max-retry-wait`); they never count as `attempts`. `wait_ms`
   * also holds the time waited for the provider's open circuit breaker (an outage), which
   * the same budget bounds and no `count` counts.
   */
  rate_limited: { count: number; wait_ms: number };
  /**
   * The image as sent. `tokens`: image tokens it costs by the provider's formula;
   * `original_tokens`: what the original would have cost sent as it was.
   */
  image: {
    width: number;
    height: number;
    bytes: number;
    original_bytes: number;
    tokens?: number;
    original_tokens?: number;
    /**
     * Animated GIF, WebP, APNG or AVIF sequence only: frames the file has. One frame was read, `frame` (1-based,
     * always 1: the first); the others were not looked at.
     */
    frames?: number;
    frame?: number;
  } | null;
  /**
   * What the record's reader should know about what was sent, when anything: an animated
   * input's "frame 1 of N sent" (the other frames were not looked at).
   */
  warnings?: string[];
  usage: Usage;
  /** USD paid for this record's provider calls; null when the model has no known price. */
  cost_usd: number | null;
  /** Size profile the image was sent at. */
  profile: string | null;
  /** Overall confidence 0–1 when the provider gives one. */
  confidence: number | null;
  /**
   * Per-field confidence 0–1 keyed by the field's path (`vendor_name`, `address/city`),
   * when the provider gives one (the local engine: OCR word confidence × label match); a
   * field the engine left null (not found, or found without enough evidence) has 0.
   * Absent for providers that report none (remote models).
   */
  field_confidence?: Record<string, number>;
  /** Why a record was skipped (triage), else null. */
  reason: string | null;
  /**
   * For `dedup` and `near-dup` records: the input whose result was reused, and the
   * perceptual-hash distance (0 for identical bytes).
   */
  duplicate_of: { input: string; sha256: string; distance: number } | null;
  /** Which stages ran and which model produced the result. */
  cascade: CascadeInfo;
  /** Documents only (PDF, multi-page TIFF, HEIC): the 1-based page this record is for (`--pages each`). */
  page?: number;
  /**
   * `run --queue` only: a worker died during this work's provider call and the call was made
   * again, so it may have been paid twice (docs/service.md). Absent otherwise.
   */
  possibly_paid?: true;
  /** Documents only: pages the document has. */
  pages?: number;
  /**
   * Documents only: sha256 of the document file (`sha256` is that of the pages read). Resume
   * compares it with the file's content, so a document's records are kept only for that file.
   */
  document_sha256?: string;
  /** Documents only: pages this record's result was read from (selected, not blank). */
  pages_sent?: number;
  /** Documents only: selected pages found blank and never sent. */
  blank_pages?: number[];
  /** Documents read page by page and merged: fields whose pages disagreed (the first page's value is kept). */
  conflicts?: PageConflict[];
  /**
   * `--pages document` only, when the pages could not go in one request and were read page
   * by page and merged: why (over the provider's images or bytes per request, or over
   * `--tpm`). Absent when the pages went together.
   */
  pages_split?: string;
  /** A document read page by page whose record is an error: the 1-based page that failed. */
  failed_page?: number;
  /**
   * `run --format-dir` only: the file this record's output was rendered to (relative to the
   * working folder when inside it), null when it was not rendered (not ok, or the write failed).
   */
  rendered?: string | null;
  /**
   * Error records: what the model or OCR engine answered (OCR text, the response, an answer
   * that was not JSON), redacted and cut to 2000 characters (pipeline/raw-output.ts); null
   * on other records and when no answer came.
   */
  raw_output: string | null;
  /**
   * Records written by `visionpipe run`: what an `ok` record holds (runs/quality.ts): `ok`
   * (data at or above the confidence threshold), `empty` (every field null: nothing was
   * read) or `low_confidence` (below the run's threshold, not enforced: `--min-confidence`
   * turns those into LOW_CONFIDENCE errors instead); null on error and skipped records.
   * `status` stays `ok` for the three, so a reader of `status` sees what it always did.
   */
  quality?: 'ok' | 'empty' | 'low_confidence' | null;
}

/** A field two pages of one document gave different values for. */
export interface PageConflict {
  /** JSON pointer of the field (`/total`). */
  field: string;
  /** The value kept and the page it came from. */
  kept: { page: number; value: unknown };
  /** A later page's different value. */
  other: { page: number; value: unknown };
}

export const NO_CASCADE: CascadeInfo = Object.freeze({
  triage: null,
  escalated_from: null,
  escalation_reason: null,
  repair: null,
});

export const EMPTY_USAGE: Usage = Object.freeze({
  input_tokens: 0,
  output_tokens: 0,
  image_tokens: 0,
  estimated: false,
});

export function errorRecord(
  base: { input: string; pattern: string; provider: string; model: string },
  error: { code: string; message: string },
  partial: Partial<RunRecord> = {},
): RunRecord {
  return {
    input: base.input,
    pattern: base.pattern,
    sha256: null,
    status: 'error',
    output: null,
    // Any error text that enters a record is printable: no escape sequences, no NULs.
    error: { ...error, message: printable(error.message) },
    cache: null,
    provider: base.provider,
    model: base.model,
    latency_ms: 0,
    attempts: 0,
    rate_limited: { ...NO_RATE_LIMITS },
    image: null,
    usage: { ...EMPTY_USAGE },
    cost_usd: 0,
    profile: null,
    confidence: null,
    reason: null,
    duplicate_of: null,
    cascade: NO_CASCADE,
    raw_output: null,
    ...partial,
  };
}

/** The warning an animated input's record carries: which frame of how many was sent. */
export function frameWarning(image: RunRecord['image']): string | undefined {
  if (!image?.frames || image.frames <= 1) return undefined;
  return `frame ${image.frame ?? 1} of ${image.frames} sent: the other frames were not read`;
}

/** `record` with its warnings (frameWarning) added, when it has any. */
export function withWarnings(record: RunRecord): RunRecord {
  const frame = frameWarning(record.image);
  return frame === undefined ? record : { ...record, warnings: [...(record.warnings ?? []), frame] };
}
