/**
 * The pacing algorithm both limiters use (the Redis Lua script mirrors it line for
 * line): a token bucket kept as one number, the time at which the bucket is empty
 * (`tat`, as in GCRA). The level at `now` is `(now - tat) * perMs`, capped at
 * `capacity`; it goes negative when a call costing more than the capacity borrowed.
 *
 * Why a small capacity: a full minute's bucket lets 300 RPM go out as 300 calls at
 * once and then nothing for a minute (a 429 storm at the provider's per-second
 * enforcement). One second's worth paces 300 RPM as ~5 calls per second.
 *
 * Why the rate is lowered by the capacity: in any window of `intervalMs` a bucket lets
 * through at most `capacity + perMs * intervalMs`. Making that equal to the limit means
 * no window ever holds more than the limit, at the cost of `burstMs / intervalMs` of
 * throughput (1.7 % with the defaults).
 */
import { VisionpipeError } from '../errors.js';
import type { LimiterOptions } from './limiter.js';

export interface BucketRate {
  /** Units the bucket holds when full. */
  capacity: number;
  /** Units added per millisecond. */
  perMs: number;
}

export const LIMITER_DEFAULTS = {
  intervalMs: 60_000,
  burstMs: 1000,
  headroom: 0,
  headerMargin: 0.01,
  maxPauseMs: 60_000,
} as const;

export interface ResolvedLimits {
  requests: BucketRate | undefined;
  tokens: BucketRate | undefined;
  intervalMs: number;
  headerMargin: number;
  maxPauseMs: number;
}

export function bucketRate(limit: number, intervalMs: number, burstMs: number, headroom: number): BucketRate {
  const effective = limit * (1 - headroom);
  // At least one unit so a single request fits; at most half, so the steady rate stays positive.
  const capacity = Math.min(Math.max(1, (effective * burstMs) / intervalMs), effective / 2);
  return { capacity, perMs: (effective - capacity) / intervalMs };
}

/** Milliseconds until a call costing `cost` may pass (0: now). Costs above capacity wait for a full bucket. */
export function bucketWait(rate: BucketRate, tat: number, cost: number, now: number): number {
  if (cost <= 0) return 0;
  return Math.max(0, tat + Math.min(cost, rate.capacity) / rate.perMs - now);
}

/** The new `tat` after a call costing `cost` passed at `now`. */
export function bucketTake(rate: BucketRate, tat: number, cost: number, now: number): number {
  return Math.max(tat, now - rate.capacity / rate.perMs) + Math.max(0, cost) / rate.perMs;
}

export function resolveLimits(options: LimiterOptions): ResolvedLimits {
  const intervalMs = positive('intervalMs', options.intervalMs ?? LIMITER_DEFAULTS.intervalMs);
  const burstMs = positive('burstMs', options.burstMs ?? LIMITER_DEFAULTS.burstMs);
  const headroom = fraction('headroom', options.headroom ?? LIMITER_DEFAULTS.headroom, 0.5);
  const headerMargin = fraction('headerMargin', options.headerMargin ?? LIMITER_DEFAULTS.headerMargin, 0.5);
  const maxPauseMs = positive('maxPauseMs', options.maxPauseMs ?? LIMITER_DEFAULTS.maxPauseMs);
  const rate = (name: 'rpm' | 'tpm', value: number | undefined) =>
    value === undefined ? undefined : bucketRate(positive(name, value), intervalMs, burstMs, headroom);
  return {
    requests: rate('rpm', options.rpm),
    tokens: rate('tpm', options.tpm),
    intervalMs,
    headerMargin,
    maxPauseMs,
  };
}

function positive(option: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `limiter option ${option} must be a positive number (got ${value})`,
      {
        option,
      },
    );
  }
  return value;
}

function fraction(option: string, value: number, max: number): number {
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `limiter option ${option} must be between 0 and ${max} (got ${value})`,
      {
        option,
      },
    );
  }
  return value;
}
