/**
 * A quota used up for longer than an image may wait (Gemini's per-day QuotaFailure with a
 * RetryInfo of 86 396 s) stops the provider's calls for the rest of the run: each later
 * call fails at once as QUOTA_EXCEEDED without being sent, its message naming the quota
 * and when it resets. The failed records are redone by a run after the reset. (Trial of
 * issue 10: after the first daily-quota refusal the 145 remaining images were still sent
 * and refused, 150 requests in 7 s.)
 */
import { VisionpipeError } from '../errors.js';

/** A quota refusal's named wait (ms) before the quota comes back, and the quotas it named (Gemini's quota ids). */
export interface QuotaReset {
  resetMs: number;
  quotaIds: readonly string[];
}

const resets = new WeakMap<object, QuotaReset>();

/** Attaches to a QUOTA_EXCEEDED error the wait (ms) the provider named before the quota comes back. */
export function markQuotaReset<E>(
  error: E,
  resetMs: number | undefined,
  quotaIds: readonly string[] = [],
): E {
  if (resetMs !== undefined && typeof error === 'object' && error !== null)
    resets.set(error, { resetMs, quotaIds });
  return error;
}

/** When the quota of a QUOTA_EXCEEDED error comes back, when the provider named it. */
export function quotaResetOf(error: unknown): QuotaReset | undefined {
  return typeof error === 'object' && error !== null ? resets.get(error) : undefined;
}

interface Stop {
  /** Wall clock (ms) when the quota comes back. */
  until: number;
  quotaIds: readonly string[];
  refusal: VisionpipeError;
}

/** Per provider (its flow, breaker or limiter: one object per provider account in a run). */
const stops = new WeakMap<object, Stop>();

/**
 * Remembers a quota refusal whose named reset is longer than the image's wait budget
 * (`budgetMs`): the provider's later calls fail without being sent until then.
 */
export function noteQuotaRefusal(provider: object, error: unknown, budgetMs: number): void {
  if (!(error instanceof VisionpipeError) || error.code !== 'QUOTA_EXCEEDED') return;
  const reset = quotaResetOf(error);
  if (reset === undefined || reset.resetMs <= budgetMs) return;
  stops.set(provider, { until: Date.now() + reset.resetMs, quotaIds: reset.quotaIds, refusal: error });
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
  return new VisionpipeError(
    'QUOTA_EXCEEDED',
    `not sent: the quota${stop.quotaIds.length > 0 ? ` ${stop.quotaIds.join(', ')}` : ''} is used up until about ${new Date(stop.until).toISOString()} ` +
      `(in ${inWords(leftMs)}), past the --max-retry-wait budget; run again after that to ` +
      `read the images that failed (${stop.refusal.message})`,
    { retryable: false, cause: stop.refusal },
  );
}

function inWords(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}
