/**
 * Every failure visionpipe reports about an input, an option or a provider is a
 * VisionpipeError with a stable machine-readable `code`. Per-image errors become
 * records with `status: "error"`; they never stop a batch.
 */

import { redactSecrets } from './secrets.js';

/** Codes and whether a retry can ever help. Kept in one table so docs and tests can enumerate them. */
export const ERROR_CODES = {
  // input
  EMPTY_INPUT: { retryable: false, summary: 'the input has zero bytes' },
  NOT_FOUND: { retryable: false, summary: 'no file, directory or glob match for the input' },
  READ_FAILED: { retryable: false, summary: 'the input could not be read (permissions, I/O error)' },
  INVALID_INPUT: { retryable: false, summary: 'the input is not a path, URL, data URI, base64 or Buffer' },
  INPUT_TOO_LARGE: { retryable: false, summary: 'the input is larger than maxInputBytes' },
  UNSUPPORTED_FORMAT: { retryable: false, summary: 'the bytes are not an image format visionpipe reads' },
  IMAGE_DECODE: { retryable: false, summary: 'the image is truncated or corrupt' },
  PIXEL_LIMIT: { retryable: false, summary: 'the image has more pixels than limitInputPixels' },
  METADATA_LIMIT: {
    retryable: false,
    summary:
      'the image carries more metadata (EXIF, XMP, ICC, text chunks) than maxMetadataBytes; nothing was decoded',
  },
  INVALID_CROP: { retryable: false, summary: 'the crop region lies outside the image' },
  IMAGE_TOO_LARGE: {
    retryable: false,
    summary:
      'the image or request is over the provider\'s hard limits (bytes, pixels, or more tokens than the account\'s per-minute budget holds: OpenAI\'s 429 "Request too large … on tokens per min", or Anthropic\'s "would exceed the rate limit … of N input tokens per minute" when the request\'s estimate alone is over N; no wait fixes either): found before upload (nothing sent) or refused by the provider twice (after the first refusal the image is sent once more at half its long edge, `cascade.resized`, when that can make it fit; the error then says "resent smaller at W×H, still refused")',
  },
  // documents (PDF, multi-page TIFF, HEIC)
  DOCUMENT_ENCRYPTED: {
    retryable: false,
    summary: 'the PDF needs a password to open; visionpipe does not take passwords: decrypt it first',
  },
  DOCUMENT_DAMAGED: {
    retryable: false,
    summary: 'the PDF or HEIC is truncated or corrupt and cannot be opened',
  },
  DOCUMENT_EMPTY: { retryable: false, summary: 'the document has no pages' },
  TOO_MANY_PAGES: {
    retryable: false,
    summary: 'the document has more pages (after --page-range) than --max-pages allows; nothing was rendered',
  },
  PAGE_OUT_OF_RANGE: {
    retryable: false,
    summary: '--page-range names a page the document does not have',
  },
  // URL sources
  URL_BLOCKED: { retryable: false, summary: 'the URL scheme or address is not allowed' },
  FETCH_FAILED: { retryable: true, summary: 'the URL could not be fetched' },
  FETCH_HTTP_ERROR: { retryable: false, summary: 'the URL answered with an HTTP error status' },
  FETCH_TIMEOUT: { retryable: true, summary: 'the URL did not answer in time' },
  TOO_MANY_REDIRECTS: { retryable: false, summary: 'the URL redirected more than allowed' },
  // outputs
  OUTPUT_CONFLICT: { retryable: false, summary: 'writing the output would overwrite an input' },
  WRITE_FAILED: { retryable: false, summary: 'the output could not be written' },
  RUN_LOCKED: {
    retryable: false,
    summary: 'another run is writing the same results file (same command started twice)',
  },
  // patterns and outputs
  INVALID_PATTERN: { retryable: false, summary: 'the pattern file is missing a field or has an invalid one' },
  SCHEMA_MISMATCH: {
    retryable: false,
    summary: "the provider's output does not conform to the pattern's schema",
  },
  LOW_CONFIDENCE: {
    retryable: false,
    summary: 'the output conforms but its confidence is below --min-confidence (after any escalation)',
  },
  EMPTY_OUTPUT: {
    retryable: false,
    summary:
      'every field of the output is null (nothing was read); an error only with --min-confidence, else an ok record of quality "empty"',
  },
  // providers (remote APIs)
  AUTH_FAILED: {
    retryable: false,
    summary: 'the provider refused the API key (401/403); check the key in the environment',
  },
  BAD_REQUEST: {
    retryable: false,
    summary: 'the provider rejected the request (400/404/413/422): it will fail again as is',
  },
  RATE_LIMITED: {
    retryable: true,
    summary:
      "the provider's pacing: it answered 429 (too many requests or tokens for now) until the image's --max-retry-wait budget was spent, or would be exceeded by the wait the server asks for (then at once, without waiting)",
  },
  QUOTA_EXCEEDED: {
    retryable: false,
    summary:
      'not a rate: the account is out of quota or credit, or over its spend limit (billing): retrying cannot help',
  },
  PROVIDER_UNAVAILABLE: {
    retryable: true,
    summary: 'the provider failed or is overloaded (408, 409, 5xx, 529)',
  },
  PROVIDER_TIMEOUT: { retryable: true, summary: 'the provider did not answer in time' },
  CONNECTION_FAILED: { retryable: true, summary: 'the connection to the provider failed or was reset' },
  BAD_RESPONSE: {
    retryable: true,
    summary: 'the provider answered with a body visionpipe cannot read (malformed JSON, no output)',
  },
  CIRCUIT_OPEN: {
    retryable: true,
    summary: 'calls to this provider are paused after a run of failures (circuit breaker)',
  },
  MISSING_API_KEY: { retryable: false, summary: "the provider's API key environment variable is not set" },
  // local engine
  OCR_FAILED: { retryable: true, summary: 'the local OCR engine failed on this image' },
  ABORTED: { retryable: true, summary: 'the run was aborted while this image was in flight' },
  // usage
  INVALID_OPTION: { retryable: false, summary: 'an option has an invalid value' },
  INTERNAL: { retryable: false, summary: 'an unexpected internal failure (a bug: please report it)' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface VisionpipeErrorOptions {
  /** The input (path, URL, label) the error is about, when there is one. */
  input?: string;
  /** The option the error is about, for INVALID_OPTION. */
  option?: string;
  /** Overrides the code's default retryability (e.g. HTTP 503 vs 404 under FETCH_HTTP_ERROR). */
  retryable?: boolean;
  /** HTTP status behind the error, when there is one. */
  status?: number;
  /** How long the server asked us to wait before trying again (Retry-After, retry-after-ms). */
  retryAfterMs?: number;
  /**
   * What the server really answered when that answer is the failure (a body that is not
   * JSON, an envelope of the wrong shape): the record's `raw_output`. Redacted here.
   */
  raw?: string;
  cause?: unknown;
}

export class VisionpipeError extends Error {
  override readonly name = 'VisionpipeError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly input: string | undefined;
  readonly option: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  /** See VisionpipeErrorOptions.raw (secrets redacted). */
  readonly raw: string | undefined;

  constructor(code: ErrorCode, message: string, options: VisionpipeErrorOptions = {}) {
    // Messages quote inputs, URLs and provider answers: no secret may ride along (secrets.ts).
    super(redactSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.input = options.input === undefined ? undefined : redactSecrets(options.input);
    this.option = options.option;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.raw = options.raw === undefined ? undefined : redactSecrets(options.raw);
  }

  /** The `{code, message}` shape used in JSONL records and JSON summaries. */
  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isVisionpipeError(value: unknown): value is VisionpipeError {
  return value instanceof VisionpipeError;
}

/**
 * Turns anything thrown into a VisionpipeError. Unknown errors become INTERNAL so a
 * bug in one image's processing is reported on that image and the batch goes on.
 */
export function toVisionpipeError(error: unknown, input?: string): VisionpipeError {
  if (error instanceof VisionpipeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const where = input === undefined ? '' : `${input}: `;
  return new VisionpipeError('INTERNAL', `${where}${message}`, { input, cause: error });
}
