/**
 * The pipeline's contract: the options createPipeline() takes and the Pipeline it returns
 * (process, processItem, defer/deliver for batch APIs, run, plan, close), apart from the
 * stages that implement it so that callers and stages depend on the shapes alone.
 */

import type { CacheOptions, CacheSetup } from '../cache/open-cache.js';
import type { WarningSink } from '../cache/store.js';
import type { PageSpan } from '../documents/page-range.js';
import type { PagesMode } from '../documents/pages-mode.js';
import type { VisionpipeError } from '../errors.js';
import type { AdaptiveFlow } from '../flow/adaptive.js';
import type { ProviderBreaker } from '../flow/circuit-breaker.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import type { Slots } from '../flow/slots.js';
import type { PreprocessOptions } from '../image/options.js';
import type { ProfileName, SizeLimits } from '../image/profiles.js';
import type { ImageSource, SourceLimits } from '../image/source.js';
import type { Pattern } from '../patterns/types.js';
import type { BatchRequest } from '../providers/batch/spec.js';
import type { PriceTable } from '../providers/pricing.js';
import type { ProviderOptions } from '../providers/registry.js';
import type { ExtractResult, Provider, TokenEstimate } from '../providers/spec.js';
import type { InputItem } from '../runs/inputs.js';
import type { RunRecord } from './record.js';

export interface TriageOptions {
  provider: Provider;
  model?: string;
  /** The yes/no question (default: derived from the pattern). The local engine reads the pattern's labels instead. */
  question?: string;
  /** Resolution of the triage image (default `triage`, 256 px; for the local engine, which must read text, its own extraction size). */
  profile?: ProfileName | SizeLimits;
}

export interface EscalationOptions {
  provider: Provider;
  model?: string;
  /** Also escalate when the first result's confidence is below this (0–1). Schema failures always escalate. */
  below?: number;
}

export interface PipelineOptions {
  /** A loaded pattern or the path of a pattern file. */
  pattern: Pattern | string;
  /** A provider instance or id (default `local`). */
  provider?: Provider | string;
  providerOptions?: ProviderOptions;
  /** Model (default: the provider's default). */
  model?: string;
  /** Size profile override (default: what the provider's model keeps). */
  profile?: ProfileName | SizeLimits;
  /** Encoding options (format, quality, crop…); the profile comes from `profile`. */
  preprocess?: Omit<PreprocessOptions, 'profile'>;
  sourceLimits?: SourceLimits;
  /** Per-call timeout, ms. Default 120 000. */
  timeoutMs?: number;
  /** Cache setup, or options to open one (default: in-memory, deduplicating within the pipeline's life). */
  cache?: CacheSetup | CacheOptions;
  /**
   * Try again the deterministic failures (SCHEMA_MISMATCH, undecodable or oversized images)
   * that an earlier run remembered for the cache TTL (pipeline/failure-memory.ts). Default false.
   */
  retryFailed?: boolean;
  /** Reuse the result of an image within this many bits of perceptual-hash distance (off by default). */
  nearDuplicateDistance?: number;
  /** One-line warnings (cache trouble); default: ignored. */
  warn?: WarningSink;
  /** Shared rate limiter for the main provider (requests and tokens per minute); none by default. */
  limiter?: Limiter;
  /** Circuit breaker: the provider's shared one by default (none for `local`); false for none. */
  breaker?: ProviderBreaker | false;
  /** Retry policy for provider calls (default: 5 attempts, full jitter, honouring Retry-After). */
  retry?: Omit<RetryOptions, 'signal'>;
  /**
   * Adaptive flow control (flow/adaptive.ts): one per remote provider by default, learning
   * its rate and concurrency from its answers; false for none (throttles then spend retries).
   */
  flow?: false | ((provider: Provider) => AdaptiveFlow);
  /** Prices (default: the bundled table; see loadPriceTable for overrides). */
  priceTable?: PriceTable;
  /** Largest image-token cost per image on the main model: images are sent at the largest size within it. */
  maxImageTokens?: number;
  /** Ask a cheap model (or the local engine) whether an image is relevant before extracting. */
  triage?: TriageOptions;
  /** Retry once on a stronger model when the output fails the schema or is not confident enough. */
  escalation?: EscalationOptions;
  /** How PDFs, multi-page TIFFs and HEICs are read (docs/documents.md). */
  documents?: DocumentOptions;
}

export interface DocumentOptions {
  /** `document` (default): one record per document; `each`: one record per page (processAll, run). */
  pages?: PagesMode;
  /** Pages to read, `1-3,7` or parsed spans; all by default. */
  pageRange?: string | readonly PageSpan[];
  /** Most pages read from one document (after pageRange); more is TOO_MANY_PAGES. Default 50. */
  maxPages?: number;
  /**
   * Most estimated tokens one request may cost (the CLI gives its `--tpm`): in `document`
   * mode, pages together over it are read page by page and merged (record `pages_split`).
   */
  maxRequestTokens?: number;
}

/**
 * How one input's records leave while it is read: each as soon as it is finished (`each`
 * mode streams page records), and the run's slots its pages may share.
 */
export interface RecordStream {
  /** The run's pool of slots (`--concurrency`); the input holds one, its pages may take more. */
  slots?: Slots;
  /** Told of every record of the input the moment it is finished, once each. */
  onRecord?: (record: RunRecord) => void;
}

export interface ImagePlan {
  width: number;
  height: number;
  tokens: TokenEstimate;
  /** The original image sent as it is (the provider still applies its own resizing). */
  naive: TokenEstimate;
}

export type Deferred =
  | { kind: 'done'; record: RunRecord }
  /** A duplicate of a request in flight: its record follows that request's result. */
  | { kind: 'waiting'; record: Promise<RunRecord> }
  | { kind: 'request'; request: BatchRequest; record: Promise<RunRecord> }
  /**
   * A document (PDF, multi-page TIFF, HEIC): the requests its pages need (none when every
   * page is known or blank) and its records, one or one per page (`pages: 'each'`).
   */
  | { kind: 'document'; requests: BatchRequest[]; records: Promise<RunRecord[]> };

/**
 * Resume: an earlier run's record for an input, given the content just identified (the
 * stat memo's sha256 or the bytes read): the record when it was made for that content,
 * else undefined. A document read with `--pages each` gives all its page records (those
 * kept: ok and skipped), for whatever version of the file: the document stage keeps those
 * of this very file (`document_sha256`) and, for a changed file, those whose rendered page
 * content (`sha256`) is unchanged; its other pages are read again. An input is never
 * resumed by its name alone.
 */
export type EarlierRecord = (sha256: string) => RunRecord | readonly RunRecord[] | undefined;

/** What an EarlierRecord gave, as a list (empty: nothing to resume). */
export function earlierRecords(given: RunRecord | readonly RunRecord[] | undefined): readonly RunRecord[] {
  if (given === undefined) return [];
  return isRecordList(given) ? given : [given];
}

/** True for the page records of a document, false for one record. */
export function isRecordList(value: RunRecord | readonly RunRecord[]): value is readonly RunRecord[] {
  return Array.isArray(value);
}

export interface ProcessOptions {
  label?: string;
  signal?: AbortSignal;
  /** Returns this record instead of processing when it is for the same content (resume). */
  earlier?: EarlierRecord;
}

export interface RunBatchOptions {
  concurrency?: number;
  /** Stop starting new images (in-flight ones finish). */
  stop?: AbortSignal;
  /** Abort in-flight images too. */
  signal?: AbortSignal;
}

/** What a page is rendered with (documents/document.ts): the same in `run` and `estimate`. */
export interface PageRendering {
  limits: SizeLimits;
  quality: number;
  limitInputPixels: number;
}

export interface Pipeline {
  readonly pattern: Pattern;
  readonly provider: Provider;
  readonly model: string;
  readonly profile: string;
  readonly runId: string;
  readonly cache: CacheSetup;
  /** What changes answers besides content, pattern, provider and model: part of cache keys and resume signatures. */
  readonly settings: string;
  /** The result-cache key of an image's content under this pipeline. */
  cacheKey(sha256: string): string;
  /**
   * What sending an image of this (upright) size would cost, without sending it: the size
   * it goes at (profile and token budget), and the provider's token estimate for that and
   * for the original sent as it is.
   */
  plan(width: number, height: number): ImagePlan;
  /**
   * How this pipeline renders a document's pages (the size limits, JPEG quality and pixel
   * limit): `run` and `estimate` both render with it, so they find the same blank pages
   * and the same page contents (cache keys).
   */
  readonly pageRendering: PageRendering;
  /**
   * One record for the input. A document is read in `document` mode here whatever
   * `documents.pages` says; processAll gives its per-page records.
   */
  process(source: ImageSource, options?: ProcessOptions): Promise<RunRecord>;
  /** Every record of one input: one for an image or a document, one per page with `pages: 'each'`. */
  processAll(source: ImageSource, options?: ProcessOptions): Promise<RunRecord[]>;
  /**
   * One item of an input stream (a file, a URL, or an input that could not be expanded).
   * With `earlier`, an earlier run's record for the same content is returned as it is.
   */
  processItem(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<RunRecord>;
  /**
   * processItem with every record of the item (one per page of a document with `pages:
   * 'each'`). With `stream`, each record is also handed to `stream.onRecord` as soon as it
   * is finished, and a document's pages are read side by side on free `stream.slots`.
   */
  processItemAll(
    item: InputItem,
    signal?: AbortSignal,
    earlier?: EarlierRecord,
    stream?: RecordStream,
  ): Promise<RunRecord[]>;
  /**
   * For provider batch APIs: everything up to the provider call. Returns the finished
   * record when no call is needed (cache hit, duplicate, triage skip, bad input), or the
   * request to put in a batch with a promise of the record, settled by `deliver()`.
   */
  defer(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<Deferred>;
  /** Hands a batch result (or a per-request error) to the request it answers. */
  deliver(customId: string, result: { result?: ExtractResult; error?: VisionpipeError }): Promise<void>;
  run(
    inputs: AsyncIterable<InputItem> | Iterable<InputItem>,
    options?: RunBatchOptions,
  ): AsyncGenerator<RunRecord>;
  close(): Promise<void>;
}
