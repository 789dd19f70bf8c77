/**
 * Every failure visionpipe reports about an input, an option or a provider is a
 * VisionpipeError with a stable machine-readable `code`. Per-image errors become
 * records with `status: "error"`; they never stop a batch.
 */

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
  INVALID_CROP: { retryable: false, summary: 'the crop region lies outside the image' },
  // URL sources
  URL_BLOCKED: { retryable: false, summary: 'the URL scheme or address is not allowed' },
  FETCH_FAILED: { retryable: true, summary: 'the URL could not be fetched' },
  FETCH_HTTP_ERROR: { retryable: false, summary: 'the URL answered with an HTTP error status' },
  FETCH_TIMEOUT: { retryable: true, summary: 'the URL did not answer in time' },
  TOO_MANY_REDIRECTS: { retryable: false, summary: 'the URL redirected more than allowed' },
  // outputs
  OUTPUT_CONFLICT: { retryable: false, summary: 'writing the output would overwrite an input' },
  WRITE_FAILED: { retryable: false, summary: 'the output could not be written' },
  // patterns and outputs
  INVALID_PATTERN: { retryable: false, summary: 'the pattern file is missing a field or has an invalid one' },
  SCHEMA_MISMATCH: {
    retryable: false,
    summary: "the provider's output does not conform to the pattern's schema",
  },
  // providers
  OCR_FAILED: { retryable: true, summary: 'the local OCR engine failed on this image' },
  TIMEOUT: { retryable: true, summary: 'the image took longer than the per-image timeout' },
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
  cause?: unknown;
}

export class VisionpipeError extends Error {
  override readonly name = 'VisionpipeError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly input: string | undefined;
  readonly option: string | undefined;

  constructor(code: ErrorCode, message: string, options: VisionpipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.input = options.input;
    this.option = options.option;
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
