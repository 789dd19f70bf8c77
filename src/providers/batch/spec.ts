/**
 * The batch backend interface: the asynchronous, half-price APIs (OpenAI Batch API,
 * Anthropic Message Batches) behind one narrow seam. A backend only speaks the wire
 * format: submit a set of requests, report a batch's state, stream its results. Chunking
 * to the API limits, persistence, polling and resume live in batch-job.ts, alike for both.
 */
import type { VisionpipeError } from '../../errors.js';
import type { Pattern } from '../../patterns/types.js';
import type { ExtractResult, ProviderImage } from '../spec.js';

/** One extraction to run inside a batch. */
export interface BatchRequest {
  /**
   * Matches results to requests (batch results come back in any order). Both APIs want
   * it unique within a batch; Anthropic allows `^[a-zA-Z0-9_-]{1,64}$`, so that is the
   * rule for both. It must be stable across runs (derive it from the cache key, not a
   * counter): a resumed job matches stored batches by it.
   */
  customId: string;
  image: ProviderImage;
  /** Further pages of a document, sent in the same request after `image` (page order). */
  pages?: ProviderImage[];
  pattern: Pattern;
  model: string;
}

/** What reading a result needs to know about its request, kept in the state file (no pixels). */
export interface BatchRequestInfo {
  customId: string;
  /** The model asked for (a result's own `model` wins when it has one). */
  model: string;
  /** The image as sent, for `usage.image_tokens` by the published formula. */
  width: number;
  height: number;
  /** The further pages sent in the same request, each counted like the first. */
  pages?: ReadonlyArray<{ width: number; height: number }>;
}

/** Every image size of a stored request, page order: its first image, then its further pages. */
export function infoImages(info: BatchRequestInfo): Array<{ width: number; height: number }> {
  return [{ width: info.width, height: info.height }, ...(info.pages ?? [])];
}

/**
 * A batch's state in the OpenAI vocabulary, plus Anthropic's `ended`. Terminal:
 * completed, failed, expired, cancelled, ended. `cancelling` (OpenAI) and `canceling`
 * (Anthropic) both read as `cancelling`: not terminal yet, results still to come.
 */
export type BatchState =
  | 'validating'
  | 'in_progress'
  | 'finalizing'
  | 'cancelling'
  | 'completed'
  | 'failed'
  | 'expired'
  | 'cancelled'
  | 'ended';

const TERMINAL: ReadonlySet<BatchState> = new Set(['completed', 'failed', 'expired', 'cancelled', 'ended']);

export function isTerminal(state: BatchState): boolean {
  return TERMINAL.has(state);
}

export interface BatchCounts {
  total: number;
  /** Requests answered successfully so far. */
  completed: number;
  /** Requests that errored, expired or were cancelled. */
  failed: number;
}

export interface BatchStatus {
  state: BatchState;
  counts?: BatchCounts;
  /** Why a batch failed as a whole (OpenAI's validation `errors`), when it did. */
  message?: string;
}

/** One request's outcome: a result or a typed error, never both. */
export interface BatchItem {
  customId: string;
  result?: ExtractResult;
  error?: VisionpipeError;
}

export interface BatchLimits {
  /** Requests per batch (the API's ceiling, or less when configured). */
  maxRequests: number;
  /** Bytes per batch as the API counts them (input file; request body). */
  maxBytes: number;
}

export interface BatchBackend {
  readonly id: 'openai' | 'anthropic';
  readonly limits: BatchLimits;
  /** Bytes `request` adds to a batch (its JSONL line, its entry in `requests`): for splitting. */
  requestBytes(request: BatchRequest): number;
  /** Creates one batch of `requests` (within `limits`). Resolves once the provider has it. */
  submit(requests: readonly BatchRequest[], signal: AbortSignal): Promise<{ batchId: string }>;
  status(batchId: string, signal: AbortSignal): Promise<BatchStatus>;
  /**
   * The results of a terminal batch, one per request the provider reports on. `requests`
   * (from the state file) gives each custom id's model and image size for usage.
   */
  results(
    batchId: string,
    signal: AbortSignal,
    requests?: ReadonlyMap<string, BatchRequestInfo>,
  ): AsyncIterable<BatchItem>;
  /** Asks the provider to stop a batch; requests already done are still billed and reported. */
  cancel?(batchId: string, signal: AbortSignal): Promise<void>;
  /** Releases pooled connections. */
  close(): Promise<void>;
}
