/**
 * When to try a webhook delivery again. After attempt n (1-based) fails, the next waits
 * `delays[n-1]` ± `jitter` (a fraction, default 0.2: 5 min becomes 4–6 min, so receivers
 * that come back are not hit by every retry at once); after the last delay there is one
 * more attempt, then the delivery is `failed`. A server that answers 429 or 503 with
 * `Retry-After` is waited for exactly that long instead (at most a day).
 */
import { parseDuration } from '../config/durations.js';
import { VisionpipeError } from '../errors.js';

/** 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h: eight attempts over about 41.6 hours. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 86_400_000,
];

/** The longest `Retry-After` honoured: a day. */
export const MAX_RETRY_AFTER_MS = 86_400_000;

export interface RetrySchedule {
  /** Waits between attempts, ms. */
  delaysMs: readonly number[];
  /** ± fraction of each wait, 0–1. */
  jitter: number;
}

/** Bounds of one wait in the schedule: at least a second, at most a week. */
export const RETRY_DELAY_BOUNDS_MS = { min: 1_000, max: 7 * 86_400_000 } as const;

/** `5s,5m,30m,2h` → ms; throws INVALID_OPTION naming `option` on anything else or a wait out of bounds. */
export function parseSchedule(text: string, option = '--webhook-retries'): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === ''))
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${option} "${text}" must be durations separated by commas (e.g. 5s,5m,30m)`,
      {
        option,
      },
    );
  return parts.map((p) => {
    const ms = parseDuration(p, option);
    if (ms < RETRY_DELAY_BOUNDS_MS.min || ms > RETRY_DELAY_BOUNDS_MS.max)
      throw new VisionpipeError('INVALID_OPTION', `${option} "${p}": each wait must be between 1s and 7d`, {
        option,
      });
    return ms;
  });
}

/**
 * The wait before the next attempt after `attempts` attempts, ms; undefined when there
 * is none left. `random` is injectable for tests (0–1).
 */
export function nextDelayMs(
  schedule: RetrySchedule,
  attempts: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule.delaysMs[attempts - 1];
  if (base === undefined) return undefined;
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  return Math.max(0, Math.round(base * (1 + schedule.jitter * (2 * random() - 1))));
}
