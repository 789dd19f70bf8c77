/**
 * HTTP status + error body → a typed VisionpipeError, the same way for every provider,
 * so flow/ can decide retries from `code`, `retryable` and `retryAfterMs` alone.
 * Messages name the provider, the status and the provider's own words (secrets removed).
 */
import { type ErrorCode, VisionpipeError } from '../errors.js';
import { parseRateLimitHeaders } from '../flow/rate-limit-headers.js';
import { parseRetryAfter } from '../flow/retry-after.js';
import { markRateLimit } from '../flow/throttle.js';
import { redactedPrefix, redactSecrets } from './secrets.js';

export type HttpHeaders = Record<string, string | string[] | undefined>;

/** What the error bodies of OpenAI, Anthropic, Gemini and ImgGo say, in one shape. */
export interface ProviderErrorBody {
  message?: string;
  /** OpenAI `error.type`, Anthropic `error.type`, Gemini `error.status`. */
  type?: string;
  /** OpenAI / ImgGo `error.code`. */
  code?: string;
  /** Gemini's `RetryInfo.retryDelay`, in ms. */
  retryDelayMs?: number;
  /** Gemini's `QuotaFailure` quota ids. */
  quotaIds?: string[];
  /** Gemini's `ErrorInfo` reasons (`API_KEY_INVALID`, …). */
  reasons?: string[];
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** "13s", "0.5s" (protobuf Duration in JSON) → ms. */
function durationMs(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(value) : null;
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/**
 * Reads `{error: {message, type, code}}` (OpenAI, ImgGo), `{type: "error", error: {type,
 * message}}` (Anthropic) and `{error: {code, message, status, details}}` (Gemini).
 */
export function readErrorBody(body: unknown): ProviderErrorBody {
  const root = record(body);
  const error = record(root?.error);
  // Ollama and llama.cpp answer `{"error": "server busy, …"}`: the message is the string itself.
  if (error === undefined) {
    const said = text(root?.error) ?? (typeof body === 'string' && body !== '' ? body : undefined);
    return said === undefined ? {} : { message: said };
  }
  const out: ProviderErrorBody = {};
  const message = text(error.message);
  if (message !== undefined) out.message = message;
  const type = text(error.type) ?? text(error.status);
  if (type !== undefined) out.type = type;
  const code = text(error.code);
  if (code !== undefined) out.code = code;
  if (Array.isArray(error.details)) {
    const reasons: string[] = [];
    const quotaIds: string[] = [];
    for (const detail of error.details) {
      const entry = record(detail);
      const delay = durationMs(entry?.retryDelay);
      if (delay !== undefined) out.retryDelayMs = delay;
      const reason = text(entry?.reason);
      if (reason !== undefined) reasons.push(reason);
      const violations: unknown[] = Array.isArray(entry?.violations) ? entry.violations : [];
      for (const violation of violations) {
        const id = text(record(violation)?.quotaId);
        if (id !== undefined) quotaIds.push(id);
      }
    }
    if (reasons.length > 0) out.reasons = reasons;
    if (quotaIds.length > 0) out.quotaIds = quotaIds;
  }
  return out;
}

/** Out of money or quota: retrying cannot help (OpenAI, Anthropic, Gemini's daily quotas). */
const QUOTA_CODES = new Set([
  'insufficient_quota',
  'billing_hard_limit_reached',
  'billing_not_active',
  'enforced_spend_limit_reached',
  'billing_error',
]);

function isQuotaError(status: number, info: ProviderErrorBody): boolean {
  if (status === 402) return true;
  if ((info.code && QUOTA_CODES.has(info.code)) || (info.type && QUOTA_CODES.has(info.type))) return true;
  // Anthropic answers 400 "Your credit balance is too low to access the Anthropic API".
  if (info.message && /credit balance is too low/i.test(info.message)) return true;
  return status === 429 && (info.quotaIds ?? []).some((id) => /PerDay/i.test(id));
}

/**
 * A refusal for size: the request or an image is over the API's byte or pixel limits
 * (OpenAI `image_too_large`, Anthropic "image exceeds 5 MB maximum" / "image dimensions
 * exceed max allowed size", Gemini "Request payload size exceeds the limit", any 413).
 * Deterministic: the same bytes are refused again, so it is never retried as sent.
 */
function isSizeRefusal(status: number, info: ProviderErrorBody): boolean {
  if (status === 413) return true;
  if (status !== 400) return false;
  if (info.code && /^(image_too_large|image_file_too_large|request_too_large)$/.test(info.code)) return true;
  return /(image exceeds .*maximum|dimensions exceed max allowed size|payload size exceeds the limit|request too large)/i.test(
    info.message ?? '',
  );
}

function codeFor(status: number, info: ProviderErrorBody): ErrorCode {
  if (isQuotaError(status, info)) return 'QUOTA_EXCEEDED';
  if (isSizeRefusal(status, info)) return 'IMAGE_TOO_LARGE';
  // ImgGo documents 403 for "rate limit exceeded" too; the body's code tells them apart.
  if (status === 429 || info.code === 'rate_limit_exceeded' || info.type === 'rate_limit_error')
    return 'RATE_LIMITED';
  // Gemini answers a wrong key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
  if (status === 401 || status === 403 || info.reasons?.some((r) => r.startsWith('API_KEY_')))
    return 'AUTH_FAILED';
  if (status === 408 || status === 409 || status === 529 || status >= 500) return 'PROVIDER_UNAVAILABLE';
  return 'BAD_REQUEST';
}

const MAX_MESSAGE = 500;

/** The VisionpipeError for a non-2xx answer. `secrets` are removed from the message. */
export function httpStatusError(
  provider: string,
  status: number,
  headers: HttpHeaders,
  body: unknown,
  secrets: ReadonlyArray<string | undefined> = [],
): VisionpipeError {
  const info = readErrorBody(body);
  const code = codeFor(status, info);
  const label = info.code ?? info.type;
  const said = redactedPrefix(info.message ?? '', MAX_MESSAGE, { secrets, ellipsis: '…' });
  const message = redactSecrets(
    `${provider}: HTTP ${status}${label ? ` ${label}` : ''}${said ? `: ${said}` : ''}`,
    secrets,
  );
  const wait = parseRetryAfter(headers) ?? info.retryDelayMs;
  const error = new VisionpipeError(code, message, {
    status,
    ...(wait === undefined || code === 'QUOTA_EXCEEDED' ? {} : { retryAfterMs: wait }),
  });
  // The budget headers of a refusal are evidence for flow control (flow/adaptive.ts).
  return markRateLimit(error, parseRateLimitHeaders(provider, headers));
}
