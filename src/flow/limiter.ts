/**
 * The Limiter seam: admission control for provider calls. One limiter paces two
 * budgets at once, requests and tokens (a request costs its estimated tokens), and
 * listens to what the provider says about its remaining budget. Memory and Redis
 * implementations share the options and the algorithm (bucket.ts).
 */
import { VisionpipeError } from '../errors.js';
import type { RateLimitSnapshot } from '../providers/spec.js';
import type { FlowShare } from './flow-share.js';

export interface LimiterCost {
  /** Requests this call counts for (default 1). */
  requests?: number;
  /** Estimated tokens (input + expected output) this call counts for (default 0). */
  tokens?: number;
}

export interface GrantEvent {
  /** When the call may go, in epoch ms on the limiter's clock (Redis server time for Redis). */
  at: number;
  /** How long the caller waited in acquire(). */
  waitedMs: number;
  requests: number;
  tokens: number;
  /** `redis` or `memory` (also when the Redis limiter fell back to memory). */
  backend: 'memory' | 'redis';
}

export interface LimiterOptions {
  /** Requests allowed per `intervalMs` (default: unlimited). */
  rpm?: number;
  /** Tokens allowed per `intervalMs` (default: unlimited). */
  tpm?: number;
  /** The period `rpm` and `tpm` are counted over (default 60 000: per minute). */
  intervalMs?: number;
  /**
   * How much may go at once, as time's worth of the rate (default 1000: one second's
   * worth, at least one request, at most half the limit). The steady rate is lowered by
   * this burst so that no window of `intervalMs` ever holds more than the limit.
   */
  burstMs?: number;
  /** Share of the limit kept back (0–0.5, default 0), e.g. for other clients of the same key. */
  headroom?: number;
  /**
   * When a response reports `remaining` at or below this share of its `limit` (default
   * 0.01; at least 0 when the limit is unknown), everyone waits for that budget's reset.
   */
  headerMargin?: number;
  /** Longest pause one header or Retry-After may impose on everyone (default 60 000 ms). */
  maxPauseMs?: number;
  /** Called on every grant (metrics, tests). */
  onGrant?: (event: GrantEvent) => void;
}

export interface Limiter {
  /**
   * Resolves when the caller may send a call costing `cost`. Waiters are served in
   * arrival order. Rejects with `signal.reason` when aborted (leaving no timer behind),
   * and with ABORTED when the limiter is closed.
   */
  acquire(cost?: LimiterCost, signal?: AbortSignal): Promise<void>;
  /** Feedback from a response (rate-limit headers) or a 429 (`retryAfterMs`): may pause everyone. */
  observe(snapshot: RateLimitSnapshot | undefined): void;
  /** Rejects pending waiters and releases timers and connections. */
  close(): Promise<void>;
  /**
   * Processes sharing this limiter lately, this one included (Redis: those that asked in
   * the last few seconds; memory: absent, meaning 1). Flow control scales what one
   * process sees of a shared budget by it.
   */
  readonly peers?: number;
  /**
   * Learned limits shared with the other processes on this limiter (Redis: lua/flow.lua;
   * memory: absent). The pipeline gives it to the provider's adaptive flow.
   */
  readonly flowShare?: FlowShare;
}

/** What pending acquire() calls reject with when their limiter closes. */
export function limiterClosedError(): VisionpipeError {
  return new VisionpipeError('ABORTED', 'the rate limiter was closed while the call waited', {
    retryable: false,
  });
}
