/**
 * Which failures are the provider saying "slower" rather than "broken", and the
 * rate-limit headers that came with them:
 *
 * - 429 that is a rate limit (RATE_LIMITED; never QUOTA_EXCEEDED: insufficient_quota,
 *   billing limits and daily quotas do not recover by waiting);
 * - 529 (Anthropic's overloaded_error), and a 503 whose message says the server is busy
 *   or overloaded (Ollama's "server busy … maximum pending requests exceeded", OpenAI's
 *   "engine is currently overloaded", Gemini's UNAVAILABLE "model is overloaded");
 * - a 503 that names when to come back (Retry-After, seconds or HTTP date; Gemini's
 *   RetryInfo), whatever its words: RFC 9110 §10.2.3 gives 503 + Retry-After that meaning,
 *   and a gateway's concurrency cap answers `{"error":{"message":"Service Unavailable"}}`
 *   with it (trial of issue 10: read as an outage, 45 of 200 images failed and the breaker
 *   opened on a server that was only full);
 * - a bare 503 (no wait, no words: nginx's `limit_conn`/`limit_req` page) that the flow
 *   read as a cap by evidence (`markCapRefusal`): sent with more calls in flight than any
 *   recent success had, a success shortly before (trial of issue 10: a proxy over 3 in
 *   flight, read as an outage, lost 31 of 150 images and opened the breaker in 4 s).
 * A 503 with none of these is an outage: it spends attempts and counts against the circuit
 * breaker. Other 5xx (500, 502, 504) stay outages: no provider documents them as "slower".
 *
 * A throttle is waited out within the wait budget (`--max-retry-wait`) and never spends
 * one of the image's error attempts; other failures go to the retry policy.
 */
import { VisionpipeError } from '../errors.js';
import type { RateLimitSnapshot } from '../providers/spec.js';

const snapshots = new WeakMap<object, RateLimitSnapshot>();

/** Attaches the rate-limit headers of the answer an error came from. */
export function markRateLimit<E>(error: E, snapshot: RateLimitSnapshot | undefined): E {
  if (snapshot !== undefined && typeof error === 'object' && error !== null) snapshots.set(error, snapshot);
  return error;
}

/** The rate-limit headers of the failed answer, when the provider read them. */
export function rateLimitOfError(error: unknown): RateLimitSnapshot | undefined {
  return typeof error === 'object' && error !== null ? snapshots.get(error) : undefined;
}

/** Codes a 429 can come with that waiting does not fix: a quota, a request too large for the budget. */
const NOT_THROTTLES: ReadonlySet<string> = new Set(['QUOTA_EXCEEDED', 'IMAGE_TOO_LARGE']);

/** What a 503 says when it means "too busy now" rather than "down" (Ollama, vLLM, OpenAI, gateways). */
const BUSY = /busy|overloaded|capacity|too many|pending requests|queue/i;

const capRefusals = new WeakSet<object>();

/** A 503 neither a wait nor words make a throttle: what the flow may read as a cap by evidence. */
export function isBare503(error: unknown): error is VisionpipeError {
  return error instanceof VisionpipeError && error.status === 503 && !isThrottle(error);
}

/** Marks a bare 503 the flow read as a cap on calls in flight (flow/adaptive.ts `FlowSlot.overCap`): a throttle. */
export function markCapRefusal(error: VisionpipeError): void {
  capRefusals.add(error);
}

/** Whether `error` is the provider saying "slower" (see the list above): a throttle, not a failure. */
export function isThrottle(error: unknown): error is VisionpipeError {
  // A 429 for a request that alone is over the per-minute token budget is IMAGE_TOO_LARGE:
  // no wait lets it through, so it pauses nobody (providers/http-errors.ts overTokenBudget).
  if (!(error instanceof VisionpipeError) || NOT_THROTTLES.has(error.code)) return false;
  if (error.code === 'RATE_LIMITED' || error.status === 429 || error.status === 529) return true;
  if (capRefusals.has(error)) return true;
  return error.status === 503 && (error.retryAfterMs !== undefined || BUSY.test(error.message));
}

/** Rate-limit waits of one image: calls refused by a throttle, and the time spent waiting after them. */
export interface ThrottleTally {
  count: number;
  /** All the image's budgeted waits (ms): after refusals, and for an open circuit breaker. */
  waitMs: number;
  /** The part of `waitMs` spent waiting for an open circuit breaker (an outage), ms. */
  outageMs?: number;
}
