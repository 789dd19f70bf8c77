/**
 * Which failures are worth another attempt. The HTTP status is the source of truth
 * when an error carries one; otherwise the error's own `retryable` flag decides, and
 * raw network errors (resets, timeouts) are retried.
 */
import { VisionpipeError } from '../errors.js';

/** HTTP status → retried? Statuses not listed fall back to the error's `retryable`. */
export const RETRY_BY_STATUS: Readonly<Record<number, boolean>> = Object.freeze({
  400: false,
  401: false,
  403: false,
  404: false,
  408: true,
  409: true,
  413: false,
  422: false,
  429: true,
  500: true,
  502: true,
  503: true,
  504: true,
  529: true,
});

/**
 * Error codes that are never retried whatever the status: quota and spend limits do not
 * recover by waiting, nor a request too large for the per-minute token budget (a 429).
 */
export const NEVER_RETRIED_CODES: ReadonlySet<string> = new Set(['QUOTA_EXCEEDED', 'IMAGE_TOO_LARGE']);

/** Node and undici error codes of connection resets and timeouts. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

export function isRetryable(error: unknown): boolean {
  if (error instanceof VisionpipeError) {
    if (NEVER_RETRIED_CODES.has(error.code)) return false;
    const byStatus = error.status === undefined ? undefined : RETRY_BY_STATUS[error.status];
    return byStatus ?? error.retryable;
  }
  return isTransientNetworkError(error);
}

/** A reset or timeout anywhere in the `cause` chain (fetch wraps the socket error). */
export function isTransientNetworkError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return true;
    if (current.name === 'TimeoutError') return true;
    current = current.cause;
  }
  return false;
}
