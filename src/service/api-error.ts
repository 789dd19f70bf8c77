/**
 * Errors as ImgGo's clients read them: `{success: false, error: {code, message,
 * details}, request_id}` with an HTTP status. Codes are the lower-case names of ImgGo's
 * error reference (`missing_authorization`, `invalid_api_key`, `insufficient_permissions`,
 * `pattern_not_found`, `image_too_large`, `rate_limit_exceeded`…).
 */
import { isVisionpipeError, type VisionpipeError } from '../errors.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** How a library error about an input reads at the API (status, ImgGo code). */
const INPUT_ERRORS: Partial<Record<VisionpipeError['code'], [number, string]>> = {
  EMPTY_INPUT: [400, 'invalid_image'],
  INVALID_INPUT: [400, 'invalid_image'],
  INPUT_TOO_LARGE: [400, 'image_too_large'],
  UNSUPPORTED_FORMAT: [400, 'unsupported_format'],
  IMAGE_DECODE: [400, 'invalid_image'],
  PIXEL_LIMIT: [400, 'image_too_large'],
  URL_BLOCKED: [400, 'invalid_image_url'],
  FETCH_FAILED: [400, 'invalid_image_url'],
  FETCH_HTTP_ERROR: [400, 'invalid_image_url'],
  FETCH_TIMEOUT: [400, 'invalid_image_url'],
  TOO_MANY_REDIRECTS: [400, 'invalid_image_url'],
  INVALID_PATTERN: [400, 'invalid_schema'],
  INVALID_OPTION: [400, 'validation_error'],
};

/** Any thrown value as an ApiError: library input errors keep their message; anything else is a 500. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (isVisionpipeError(error)) {
    const mapped = INPUT_ERRORS[error.code];
    if (mapped) return new ApiError(mapped[0], mapped[1], error.message, { reason: error.code });
  }
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // fastify's own client errors, each with its row in docs/service.md's error table.
    const message = error instanceof Error ? error.message : String(error);
    if (status === 413) return new ApiError(413, 'payload_too_large', message);
    if (status === 415)
      return new ApiError(
        415,
        'unsupported_media_type',
        `${message}: send application/json, or multipart/form-data with the image in field 'image'`,
      );
    // A malformed or empty JSON body: a malformed field, the whole body.
    return new ApiError(400, 'validation_error', message, { field: 'body' });
  }
  return new ApiError(500, 'internal_error', 'the server failed to handle this request');
}

export const notFound = (what: 'pattern' | 'job' | 'image' | 'api key', id: string) =>
  new ApiError(
    404,
    `${what.replace(' ', '_')}_not_found`,
    `${what[0]!.toUpperCase()}${what.slice(1)} '${id}' does not exist`,
  );
