/**
 * A quota used up for longer than an image may wait (Gemini's per-day QuotaFailure with a
 * RetryInfo of 86 396 s, or naming no reset: OpenAI's insufficient_quota, a daily quota
 * said in words) stops the provider's calls for the rest of the run: each later
 * call fails at once as QUOTA_EXCEEDED without being sent, its message naming the quota
 * and when it resets. The failed records are redone by a run after the reset. (Trial of
 * issue 10: after the first daily-quota refusal the 145 remaining images were still sent
 * and refused, 150 requests in 7 s.)
 */
import { VisionpipeError } from '../errors.js';

/** A quota refusal's named wait (ms) before the quota comes back (undefined: none named), and the quotas it named (Gemini's quota ids). */
export interface QuotaReset {
  resetMs: number | undefined;
  quotaIds: readonly string[];
}

const resets = new WeakMap<object, QuotaReset>();

/**
 * How long (ms) a used-up quota stops the provider when the refusal named no reset, or
 * one within the wait budget: a daily quota or a billing limit does not come back in
 * seconds (Gemini's per-day QuotaFailure may carry a RetryInfo of 30 s; OpenAI's
 * insufficient_quota names none). After it one call goes again and tells. (Trial of issue
 * 10: such a quota was sent and refused once per image, 80 of 100 requests refused.)
 */
export const QUOTA_RECHECK_MS = 10 * 60_000;

/** Marks a QUOTA_EXCEEDED error as a quota refusal, with the wait (ms) the provider named before the quota comes back, if any. */
export function markQuotaReset<E>(
  error: E,
  resetMs: number | undefined,
  quotaIds: readonly string[] = [],
): E {
  if (typeof error === 'object' && error !== null) resets.set(error, { resetMs, quotaIds });
  return error;
}

/** When the quota of a QUOTA_EXCEEDED error comes back (`resetMs`, when the provider named it), and its ids. */
export function quotaResetOf(error: unknown): QuotaReset | undefined {
  return typeof error === 'object' && error !== null ? resets.get(error) : undefined;
}

interface Stop {
  /** Wall clock (ms) when the quota comes back. */
  until: number;
  /** The provider named when the quota comes back (else `until` is when one call checks again). */
  named: boolean;
  quotaIds: readonly string[];
  refusal: VisionpipeError;
}

/** Per provider (its flow, breaker or limiter: one object per provider account in a run). */
const stops = new WeakMap<object, Stop>();

/**
 * Remembers a quota refusal: the provider's later calls fail without being sent until the
 * reset it named when that is past the image's wait budget (`budgetMs`), else for
 * `QUOTA_RECHECK_MS` (no reset named, or one too short for a quota: see there).
 */
export function noteQuotaRefusal(provider: object, error: unknown, budgetMs: number): void {
  if (!(error instanceof VisionpipeError) || error.code !== 'QUOTA_EXCEEDED') return;
  const reset = quotaResetOf(error);
  if (reset === undefined) return;
  const named = reset.resetMs !== undefined && reset.resetMs > budgetMs;
  stops.set(provider, {
    until: Date.now() + (named ? reset.resetMs! : QUOTA_RECHECK_MS),
    named,
    quotaIds: reset.quotaIds,
    refusal: error,
  });
}

/**
 * The error a call to `provider` fails with, unsent, while a quota it used up has not come
 * back; undefined when the call may go.
 * @returns QUOTA_EXCEEDED, not retryable, naming the refusal and the reset (wall clock, ISO 8601).
 */
export function quotaStopped(provider: object): VisionpipeError | undefined {
  const stop = stops.get(provider);
  if (stop === undefined) return undefined;
  const leftMs = stop.until - Date.now();
  if (leftMs <= 0) {
    stops.delete(provider);
    return undefined;
  }
  const quota = `the quota${stop.quotaIds.length > 0 ? ` ${stop.quotaIds.join(', ')}` : ''} is used up`;
  const when = stop.named
    ? `until about ${new Date(stop.until).toISOString()} (in ${inWords(leftMs)}), past the --max-retry-wait budget`
    : `(a daily or billing limit, and the provider named no reset, or one too short for it); one call tries again at about ${new Date(stop.until).toISOString()} (in ${inWords(leftMs)})`;
  return new VisionpipeError(
    'QUOTA_EXCEEDED',
    `not sent: ${quota} ${when}; run again after ${stop.named ? 'that' : 'the reset'} to read the images that failed (${stop.refusal.message})`,
    { retryable: false, cause: stop.refusal },
  );
}

function inWords(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}
