/**
 * A rate limit per API key, shared by every API process: the flow module's Redis token
 * bucket (the same Lua script and GCRA arithmetic that pace provider calls), asked
 * without waiting — the request goes now or is refused with the time to come back.
 * The bucket holds half the limit (a burst) and refills at the rest, so no window of
 * `intervalMs` ever lets more than `limit` requests through (flow/bucket.ts).
 *
 * Answers carry ImgGo's headers: `X-RateLimit-Limit` (requests per interval),
 * `X-RateLimit-Remaining` (requests that may go at once now), `X-RateLimit-Reset`
 * (unix seconds when the bucket is full again) and, when refused, `Retry-After`
 * (seconds). When Redis cannot answer, requests go (fail open) without headers.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { type BucketRate, bucketRate } from '../flow/bucket.js';
import { defineLimiterCommands } from '../flow/redis-scripts.js';

/** A MULTI chain with the limiter's script defined on the client. */
type WithAcquire = ChainableCommander & {
  visionpipeAcquire(...keysThenArgs: Array<string | number>): ChainableCommander;
};

export interface RateLimitOptions {
  /** Requests allowed per interval. */
  limit: number;
  /** The interval, ms (default 60 000). */
  intervalMs?: number;
  /** Key prefix in Redis. */
  prefix: string;
}

export interface RateLimitDecision {
  allowed: boolean;
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
    // A burst of up to half the interval's limit, the rest spread over the interval.
    this.rate = bucketRate(options.limit, intervalMs, intervalMs, 0);
    this.client = defineLimiterCommands(client);
  }

  /** Takes one request from the key's bucket, or says when one is free. */
  async take(keyId: string): Promise<RateLimitDecision | undefined> {
    const base = `${this.options.prefix}:ratelimit:{${keyId}}`;
    const { capacity, perMs } = this.rate;
    let replies: Array<[Error | null, unknown]> | null;
    try {
      // TIME, the script (horizon 0: no reserving ahead) and the bucket after it, atomically.
      const chain = this.client.multi().time() as WithAcquire;
      replies = await chain
        .visionpipeAcquire(
          `${base}:requests`,
          `${base}:tokens`,
          `${base}:paused`,
          capacity,
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
    const tat = Number(replies[2]![1] ?? now - capacity / perMs);
    const remaining = Math.max(0, Math.floor(Math.min(capacity, (now - tat) * perMs)));
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(this.options.limit),
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(Math.ceil((Math.max(now, tat) + capacity / perMs) / 1000)),
    };
    if (Number(granted) === 1) return { allowed: true, headers };
    headers['retry-after'] = String(Math.max(1, Math.ceil(Number(waitMs) / 1000)));
    return { allowed: false, headers };
  }
}
