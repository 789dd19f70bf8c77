/**
 * Retries with exponential backoff and full jitter (AWS architecture blog, "Exponential
 * Backoff And Jitter"): attempt n waits `random() * min(maxDelayMs, baseDelayMs * 2^(n-1))`,
 * which spreads a crowd of failed callers over the whole interval instead of sending
 * them back together. A server's Retry-After (`retryAfterMs` on the error) is a floor:
 * it is honoured even when longer than the backoff. Which errors are retried is
 * retry-rules.ts's call.
 */
import { VisionpipeError } from '../errors.js';
import { isRetryable } from './retry-rules.js';
import { sleep as defaultSleep } from './sleep.js';

export { parseRetryAfter } from './retry-after.js';
export { isRetryable, RETRY_BY_STATUS } from './retry-rules.js';

export interface RetryInfo {
  /** The attempt that failed (1-based). */
  attempt: number;
  error: unknown;
  /** How long until the next attempt. */
  delayMs: number;
  /** Waiting done so far, including this delay. */
  totalWaitMs: number;
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** Backoff cap for the first retry (default 500 ms); doubles each attempt. */
  baseDelayMs?: number;
  /** Backoff cap for any one wait (default 30 000 ms); a longer Retry-After still wins. */
  maxDelayMs?: number;
  /** Give up instead of waiting past this much in all (default 120 000 ms). */
  maxTotalWaitMs?: number;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  /** Which errors are retried (default retry-rules.ts's `isRetryable`). */
  shouldRetry?: (error: unknown) => boolean;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
  /** The wait (tests). Must reject with the signal's reason when it aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const RETRY_DEFAULTS = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxTotalWaitMs: 120_000,
} as const;

export interface Attempted<T> {
  value: T;
  /** Attempts made, the successful one included. */
  attempts: number;
}

const attemptCounts = new WeakMap<object, number>();

/** How many attempts were made before `retry()` gave up with this error (undefined if it did not come from retry). */
/** Records how many provider calls an error cost (for errors raised after a call succeeded, e.g. validation). */
export function markAttempts<E>(error: E, attempts: number): E {
  if (typeof error === 'object' && error !== null) attemptCounts.set(error, attempts);
  return error;
}

export function attemptsOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? attemptCounts.get(error) : undefined;
}

export async function retry<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: RetryOptions = {},
): Promise<Attempted<T>> {
  const maxAttempts = option('maxAttempts', options.maxAttempts ?? RETRY_DEFAULTS.maxAttempts, 1);
  const baseDelayMs = option('baseDelayMs', options.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs, 0);
  const maxDelayMs = option('maxDelayMs', options.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs, 0);
  const maxTotalWaitMs = option('maxTotalWaitMs', options.maxTotalWaitMs ?? RETRY_DEFAULTS.maxTotalWaitMs, 0);
  const shouldRetry = options.shouldRetry ?? isRetryable;
  const random = options.random ?? Math.random;
  const wait = options.sleep ?? defaultSleep;
  const signal = options.signal ?? new AbortController().signal;

  let totalWaitMs = 0;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) throw tagged(signal.reason, attempt - 1);
    try {
      return { value: await fn(attempt, signal), attempts: attempt };
    } catch (error) {
      if (signal.aborted) throw tagged(signal.reason, attempt);
      if (attempt >= maxAttempts || !shouldRetry(error)) throw tagged(error, attempt);
      const backoff = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.ceil(Math.max(backoff, retryAfterOf(error)));
      if (totalWaitMs + delayMs > maxTotalWaitMs) throw tagged(error, attempt);
      totalWaitMs += delayMs;
      options.onRetry?.({ attempt, error, delayMs, totalWaitMs });
      try {
        await wait(delayMs, signal);
      } catch (reason) {
        throw tagged(reason, attempt);
      }
    }
  }
}

function retryAfterOf(error: unknown): number {
  const ms = error instanceof VisionpipeError ? error.retryAfterMs : undefined;
  return ms !== undefined && Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function tagged(error: unknown, attempts: number): unknown {
  if (typeof error === 'object' && error !== null) attemptCounts.set(error, attempts);
  return error;
}

function option(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `retry option ${name} must be a number ≥ ${min} (got ${value})`,
      {
        option: name,
      },
    );
  }
  return value;
}
