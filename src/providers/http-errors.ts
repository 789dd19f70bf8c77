/**
 * HTTP status + error body → a typed VisionpipeError, the same way for every provider,
 * so flow/ can decide retries from `code`, `retryable` and `retryAfterMs` alone.
 * Messages name the provider, the status and the provider's own words (secrets removed).
 */
import { type ErrorCode, VisionpipeError } from '../errors.js';
import { parseDuration } from '../flow/duration.js';
import { markQuotaReset } from '../flow/quota-stop.js';
import { parseRateLimitHeaders } from '../flow/rate-limit-headers.js';
import { parseRetryAfter } from '../flow/retry-after.js';
import { markRateLimit } from '../flow/throttle.js';
import { printable } from '../printable.js';
import { htmlPageWords } from './html-page.js';
import { redactedPrefix, redactSecrets } from './secrets.js';
import {
  markOverTokenBudget,
  type OverTokenBudget,
  overTokenBudget,
  overTokenBudgetWords,
  type RequestTokens,
} from './token-budget.js';

export type HttpHeaders = Record<string, string | string[] | undefined>;

/** What the error bodies of OpenAI, Anthropic, Gemini and ImgGo say, in one shape. */
export interface ProviderErrorBody {
  message?: string;
  /** OpenAI `error.type`, Anthropic `error.type`, Gemini `error.status`. */
  type?: string;
  /** OpenAI / ImgGo `error.code`. */
  code?: string;
  /** Gemini's `RetryInfo.retryDelay`, or OpenAI's "Please try again in 2.96s." in the message, in ms. */
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
 * OpenAI's 429 names its wait only in words when it sends no Retry-After: "Rate limit
 * reached for gpt-4.1-mini … on requests per min (RPM): Limit 40, Used 40, Requested 1.
 * Please try again in 2.96s." (`20ms`, `1m30s` alike: a Go duration). Without it a refusal
 * waited an estimate that doubled past the window's reset (trial of issue 10: 2 s, 6 s, 21 s).
 */
const TRY_AGAIN_IN = /\btry again in ((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)/i;

function messageDelayMs(message: string): number | undefined {
  const match = TRY_AGAIN_IN.exec(message);
  const ms = match ? parseDuration(match[1]!) : undefined;
  return ms === undefined ? undefined : Math.ceil(ms);
}

/**
 * Reads `{error: {message, type, code}}` (OpenAI, ImgGo), `{type: "error", error: {type,
 * message}}` (Anthropic) and `{error: {code, message, status, details}}` (Gemini).
 */
export function readErrorBody(body: unknown): ProviderErrorBody {
  // Gemini's OpenAI-compatible endpoint answers a list: `[{"error": {…}}]`.
  const root = record(Array.isArray(body) ? body[0] : body);
  const error = record(root?.error);
  // Ollama and llama.cpp answer `{"error": "server busy, …"}`: the message is the string itself.
  if (error === undefined) {
    // vLLM answers flat: `{"object": "error", "message": "…", "type": "BadRequestError"}`.
    const said =
      text(root?.error) ??
      text(root?.message) ??
      (typeof body === 'string' && body !== '' ? (htmlPageWords(body) ?? body) : undefined);
    const type = text(root?.type);
    if (said === undefined) return {};
    return type === undefined || text(root?.error) !== undefined
      ? { message: said }
      : { message: said, type };
  }
  const out: ProviderErrorBody = {};
  const message = text(error.message);
  if (message !== undefined) out.message = message;
  const said = message === undefined ? undefined : messageDelayMs(message);
  if (said !== undefined) out.retryDelayMs = said;
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
  // Anthropic answers 400 "You have reached your specified API usage limits. You will
  // regain access on 2027-01-01 at 00:00 UTC." (a spend limit set in the console): read as
  // a bad request, every image was sent and refused (trial of issue 10). So are monthly
  // usage limits worded in a 429.
  if (info.message && USAGE_LIMIT.test(info.message)) return true;
  if (status !== 429) return false;
  if ((info.quotaIds ?? []).some((id) => /PerDay/i.test(id))) return true;
  // A limit per day worded in the message (Anthropic-style "would exceed your organization's
  // daily rate limit of 20 requests per day"): read as the request pace, its hours-long
  // Retry-After held every image not sent yet (trial of issue 10).
  return info.message !== undefined && DAILY_LIMIT.test(info.message);
}

/** A message naming an account's usage limit, with a date access comes back: a quota until then. */
const USAGE_LIMIT = /\b(reached your (specified )?API usage limits?|monthly usage limit|regain access on)\b/i;

/**
 * The moment a usage-limit message says access comes back ("You will regain access on
 * 2027-01-01 at 00:00 UTC"), as ms from `now`; undefined when it names none or it passed.
 */
export function regainAccessInMs(message: string | undefined, now = Date.now()): number | undefined {
  const at = message?.match(/regain access on (\d{4}-\d\d-\d\d)(?: at (\d\d:\d\d)(?::\d\d)? UTC)?/i);
  if (!at) return undefined;
  const when = Date.parse(`${at[1]}T${at[2] ?? '00:00'}:00Z`);
  return Number.isNaN(when) || when <= now ? undefined : when - now;
}

/** A 429 message naming a limit per day (not per minute): a quota, not pacing. */
const DAILY_LIMIT =
  /\b(daily (rate )?(limit|quota)|(requests|tokens) per day|per-day (limit|quota)|limit per day|quota metric\b[^.]*\bper day)\b/i;

/**
 * The shapes of a refusal for size, by kind: the request or an image is over the API's
 * byte, pixel or token limits. Each row: what it matches, who answers it, where it is
 * documented or reported. Matched against `error.code`, `error.type` and the message.
 */
export const SIZE_REFUSAL_SHAPES: ReadonlyArray<{
  who: string;
  code?: RegExp;
  message?: RegExp;
  source: string;
}> = [
  // OpenAI: invalid_request_error with these codes; "You uploaded an unsupported image. Please
  // make sure your image is below 20 MB in size…" comes as invalid_image, image_parse_error or
  // sanitizer_server_error (platform.openai.com/docs/guides/images-vision "Image input
  // requirements"; reports: github.com/CosmosShadow/gptpdf/issues/6, vercel/ai#1544).
  {
    who: 'openai',
    code: /^(image_too_large|image_file_too_large|request_too_large|invalid_image|image_parse_error)$/,
    source: 'OpenAI error codes',
  },
  { who: 'openai', message: /image is below \d+ ?MB in size/i, source: 'OpenAI "unsupported image" 400' },
  { who: 'openai', code: /^context_length_exceeded$/, source: 'OpenAI / vLLM context_length_exceeded' },
  { who: 'openai', message: /maximum context length is \d+ tokens/i, source: 'OpenAI / vLLM context 400' },
  // Anthropic: "image exceeds 5 MB maximum: N bytes > 5242880 bytes", "At least one of the image
  // dimensions exceed max allowed size: 8000 pixels", request_too_large (413), "prompt is too
  // long: N tokens > M maximum" (platform.claude.com/docs/en/build-with-claude/vision, API errors).
  { who: 'anthropic', code: /^request_too_large$/, source: 'Anthropic API errors: request_too_large' },
  { who: 'anthropic', message: /image exceeds \d+(\.\d+)? ?MB maximum/i, source: 'Anthropic 400' },
  { who: 'anthropic', message: /dimensions exceed max allowed size/i, source: 'Anthropic 400' },
  { who: 'anthropic', message: /prompt is too long: \d+ tokens/i, source: 'Anthropic 400' },
  // Gemini: "Request payload size exceeds the limit: 20971520 bytes.", "The input token count (N)
  // exceeds the maximum number of tokens allowed (M)." (ai.google.dev/gemini-api/docs/troubleshooting).
  { who: 'gemini', message: /payload size exceeds the limit/i, source: 'Gemini 400 INVALID_ARGUMENT' },
  {
    who: 'gemini',
    message: /input token count.*exceeds the maximum/i,
    source: 'Gemini 400 INVALID_ARGUMENT',
  },
  // vLLM and other OpenAI-compatible servers: "Input image too large", "image size (…) exceeds
  // …", "The decoder prompt (length N) is longer than the maximum model length of M", "The
  // number of tokens in the prompt exceeds …" (vllm-project/vllm serving errors).
  { who: 'vllm', message: /\b(input )?image (is )?too large/i, source: 'vLLM / gateways 400' },
  { who: 'vllm', message: /image (size|dimensions?|resolution)\b.*\bexceed/i, source: 'vLLM / gateways 400' },
  { who: 'vllm', message: /number of tokens in the prompt exceeds/i, source: 'vLLM 400' },
  {
    who: 'vllm',
    message: /prompt \(length \d+\) is longer than the maximum model length/i,
    source: 'vLLM 400',
  },
  { who: 'any', message: /request (entity )?too large|payload too large/i, source: 'HTTP 413 bodies' },
];

/** The statuses a size refusal comes with: 400 (most), 413 (always), 422 (some gateways). */
const SIZE_REFUSAL_STATUSES = new Set([400, 413, 422]);

/**
 * A refusal for size (SIZE_REFUSAL_SHAPES, or any 413). Deterministic: the same bytes
 * are refused again, so it is never retried as sent (the pipeline sends the image once
 * more at half its long edge).
 */
export function isSizeRefusal(status: number, info: ProviderErrorBody): boolean {
  if (status === 413) return true;
  if (!SIZE_REFUSAL_STATUSES.has(status)) return false;
  const labels = [info.code, info.type].filter((l): l is string => l !== undefined);
  const message = info.message ?? '';
  return SIZE_REFUSAL_SHAPES.some(
    (shape) => labels.some((l) => shape.code?.test(l) === true) || shape.message?.test(message) === true,
  );
}

function codeFor(status: number, info: ProviderErrorBody, over: OverTokenBudget | undefined): ErrorCode {
  if (isQuotaError(status, info)) return 'QUOTA_EXCEEDED';
  if (isSizeRefusal(status, info) || over !== undefined) return 'IMAGE_TOO_LARGE';
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

/**
 * The VisionpipeError for a non-2xx answer. `secrets` are removed from the message.
 * `estimate`: what the request sent is estimated to need, so that a per-minute refusal
 * naming only the limit (Anthropic's) is read as too large when the request alone is over it.
 */
export function httpStatusError(
  provider: string,
  status: number,
  headers: HttpHeaders,
  body: unknown,
  secrets: ReadonlyArray<string | undefined> = [],
  estimate?: RequestTokens,
): VisionpipeError {
  const info = readErrorBody(body);
  const over = isQuotaError(status, info) ? undefined : overTokenBudget(info, estimate);
  const code = codeFor(status, info, over);
  const label = info.code ?? info.type;
  // The provider's words, without control characters (a text/html body is kept as it came).
  const said = redactedPrefix(printable(info.message ?? '').trim(), MAX_MESSAGE, { secrets, ellipsis: '…' });
  // Said first, in our words: the provider's own ("rate_limit_exceeded", a 429) reads as pacing.
  const why = over ? `: ${overTokenBudgetWords(over)}` : '';
  const message = redactSecrets(
    `${provider}: HTTP ${status}${label ? ` ${label}` : ''}${why}${said ? `: ${said}` : ''}`,
    secrets,
  );
  const wait = parseRetryAfter(headers) ?? info.retryDelayMs ?? regainAccessInMs(info.message);
  const error = new VisionpipeError(code, message, {
    status,
    ...(wait === undefined || code === 'QUOTA_EXCEEDED' || over ? {} : { retryAfterMs: wait }),
  });
  if (over) markOverTokenBudget(error, over);
  // A quota's reset is no retry delay, but says how long the rest of the run would be refused
  // (none named: the quota stops the provider's later calls anyway, flow/quota-stop.ts).
  if (code === 'QUOTA_EXCEEDED') markQuotaReset(error, wait, info.quotaIds);
  // The budget headers of a refusal are evidence for flow control (flow/adaptive.ts).
  return markRateLimit(error, parseRateLimitHeaders(provider, headers));
}
