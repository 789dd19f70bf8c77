/**
 * A rate limit per API key, shared by every API process: the flow module's Redis token
 * bucket (the same Lua script and GCRA arithmetic that pace provider calls), asked
 * without waiting — the request goes now or is refused with the time to come back. The
 * bucket holds half the limit (a burst) and refills at the rest, so no window of
 * `intervalMs` ever lets more than `limit` requests through (flow/bucket.ts).
 *
 * The script reserves a slot when the bucket is not in debt, even with less than one
 * request in it (the caller then waits for the slot). Here nobody waits: the key holds
 * the bucket's empty-time plus one request's worth (`tat + 1/rate`) and the script gets a
 * capacity one smaller. In that frame "not in debt" means "one whole request available",
 * and every other step of the script is unchanged GCRA (needs a capacity of 2 or more).
 *
 * Answers carry ImgGo's headers: `X-RateLimit-Limit` (requests per interval),
 * `X-RateLimit-Remaining` (requests that may go at once now), `X-RateLimit-Reset`
 * (unix seconds when the bucket is full again) and, when refused, `Retry-After`
 * (seconds). When Redis cannot answer, requests go (fail open) without headers.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { VisionpipeError } from '../errors.js';
import { type BucketRate, bucketRate } from '../flow/bucket.js';
import { defineLimiterCommands } from '../flow/redis-scripts.js';

/** A MULTI chain with the limiter's script defined on the client. */
type WithAcquire = ChainableCommander & {
  visionpipeAcquire(...keysThenArgs: Array<string | number>): ChainableCommander;
};

/** The smallest limit the bucket can keep exactly (a burst of two). */
export const MIN_RATE_LIMIT = 4;

export interface RateLimitOptions {
  /** Requests allowed per interval (at least MIN_RATE_LIMIT). */
  limit: number;
  /** The interval, ms (default 60 000). */
  intervalMs?: number;
  /** Key prefix in Redis. */
  prefix: string;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** When it was decided, epoch ms on Redis's clock. */
  at: number;
  headers: Record<string, string>;
}

export class KeyRateLimiter {
  private readonly rate: BucketRate;
  private readonly client: ReturnType<typeof defineLimiterCommands>;

  constructor(
    client: Redis,
    private readonly options: RateLimitOptions,
  ) {
    const intervalMs = options.intervalMs ?? 60_000;
    if (!(options.limit >= MIN_RATE_LIMIT)) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `rate limit must allow at least ${MIN_RATE_LIMIT} requests per interval (got ${options.limit})`,
        { option: 'rateLimit' },
      );
    }
    // A burst of up to half the interval's limit, the rest spread over the interval.
    this.rate = bucketRate(options.limit, intervalMs, intervalMs, 0);
    this.client = defineLimiterCommands(client);
  }

  /** Takes one request from the key's bucket, or says when one is free. */
  async take(keyId: string): Promise<RateLimitDecision | undefined> {
    // The limit is part of the bucket's name: API processes started with different
    // --rate-limit values keep their own bucket per key (docs/service.md) rather than share
    // one that two rates judge (the stricter would refuse for the looser).
    const base = `${this.options.prefix}:ratelimit:${this.options.limit}/${this.options.intervalMs ?? 60_000}:{${keyId}}`;
    const { capacity, perMs } = this.rate;
    const one = 1 / perMs;
    let replies: Array<[Error | null, unknown]> | null;
    try {
      // TIME, the script (horizon 0: no reserving ahead) and the bucket after it, atomically.
      const chain = this.client.multi().time() as WithAcquire;
      replies = await chain
        .visionpipeAcquire(
          `${base}:requests`,
          `${base}:tokens`,
          `${base}:paused`,
          capacity - 1, // the shifted frame (see above)
          perMs,
          1,
          0,
          0,
          0,
          0,
        )
        .get(`${base}:requests`)
        .exec();
    } catch {
      return undefined;
    }
    if (!replies || replies.some(([error]) => error)) return undefined;
    const [seconds, micros] = replies[0]![1] as [string, string];
    const now = Number(seconds) * 1000 + Number(micros) / 1000;
    const [granted, waitMs] = replies[1]![1] as [number, string, string];
    // The stored value is the shifted one (see above): the bucket's empty-time is one request earlier.
    const stored = replies[2]![1];
    const tat = stored === null ? now - capacity / perMs : Number(stored) - one;
    // TIME ran a few microseconds before the script: forgive that much when counting whole requests.
    const remaining = Math.max(0, Math.floor(Math.min(capacity, (now - tat) * perMs + 1e-3)));
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(this.options.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(Math.ceil((Math.max(now, tat) + capacity / perMs) / 1000)),
    };
    if (Number(granted) === 1) return { allowed: true, at: now, headers };
    headers['retry-after'] = String(Math.max(1, Math.ceil(Number(waitMs) / 1000)));
    return { allowed: false, at: now, headers };
  }
}
