/**
 * The in-process limiter: one FIFO queue of waiters and a single timer, armed for the
 * moment the head may go. Serving strictly in order is what lets a large-token call
 * pass even while small ones keep arriving.
 */
import type { RateLimitSnapshot } from '../providers/spec.js';
import { bucketTake, bucketWait, type ResolvedLimits, resolveLimits } from './bucket.js';
import { monotonicNow } from './clock.js';
import {
  type GrantEvent,
  type Limiter,
  type LimiterCost,
  type LimiterOptions,
  limiterClosedError,
} from './limiter.js';
import { pauseFor } from './pause.js';

export interface MemoryLimiterOptions extends LimiterOptions {
  /** The clock, in epoch-like ms (tests); default a monotonic clock anchored at the epoch. */
  now?: () => number;
}

interface Waiter {
  requests: number;
  tokens: number;
  queuedAt: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class MemoryLimiter implements Limiter {
  private readonly limits: ResolvedLimits;
  private readonly now: () => number;
  private readonly onGrant: ((event: GrantEvent) => void) | undefined;
  private readonly queue: Waiter[] = [];
  private requestsTat = Number.NEGATIVE_INFINITY;
  private tokensTat = Number.NEGATIVE_INFINITY;
  private blockedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: MemoryLimiterOptions = {}) {
    this.limits = resolveLimits(options);
    this.now = options.now ?? monotonicNow;
    this.onGrant = options.onGrant;
  }

  /** Waiters not yet granted (for metrics and tests). */
  get pending(): number {
    return this.queue.length;
  }

  acquire(cost: LimiterCost = {}, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(limiterClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        requests: cost.requests ?? 1,
        tokens: cost.tokens ?? 0,
        queuedAt: this.now(),
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        waiter.onAbort = () => this.remove(waiter, signal.reason);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      if (this.queue.length === 1) this.pump();
    });
  }

  observe(snapshot: RateLimitSnapshot | undefined): void {
    const pause = pauseFor(snapshot, this.limits.headerMargin, this.limits.maxPauseMs);
    if (pause > 0) this.pauseUntil(this.now() + pause);
  }

  /** Holds every waiter until `until` (epoch ms on this limiter's clock); restarts paced, not in a burst. */
  pauseUntil(until: number): void {
    if (until <= this.blockedUntil) return;
    this.blockedUntil = until;
    this.requestsTat = Math.max(this.requestsTat, until);
    this.tokensTat = Math.max(this.tokensTat, until);
    if (this.queue.length > 0) this.pump();
  }

  /** Milliseconds until a call of this cost could go if it were at the head of the queue. */
  waitFor(requests: number, tokens: number, now: number = this.now()): number {
    const { requests: r, tokens: t } = this.limits;
    return Math.max(
      this.blockedUntil - now,
      r ? bucketWait(r, this.requestsTat, requests, now) : 0,
      t ? bucketWait(t, this.tokensTat, tokens, now) : 0,
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    for (const waiter of this.queue.splice(0)) {
      this.detach(waiter);
      waiter.reject(limiterClosedError());
    }
  }

  /** Grants every waiter that may go now, in order, then arms one timer for the next head. */
  private pump(): void {
    this.disarm();
    const now = this.now();
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      const wait = this.waitFor(head.requests, head.tokens, now);
      if (wait > 0) {
        // Whole milliseconds, rounded up: a timer that fires early would only re-arm.
        this.timer = setTimeout(() => this.pump(), Math.ceil(wait));
        return;
      }
      const { requests: r, tokens: t } = this.limits;
      if (r) this.requestsTat = bucketTake(r, this.requestsTat, head.requests, now);
      if (t) this.tokensTat = bucketTake(t, this.tokensTat, head.tokens, now);
      this.queue.shift();
      this.detach(head);
      this.onGrant?.({
        at: now,
        waitedMs: now - head.queuedAt,
        requests: head.requests,
        tokens: head.tokens,
        backend: 'memory',
      });
      head.resolve();
    }
  }

  private remove(waiter: Waiter, reason: unknown): void {
    const index = this.queue.indexOf(waiter);
    if (index === -1) return;
    this.queue.splice(index, 1);
    this.detach(waiter);
    waiter.reject(reason);
    if (index === 0) this.pump();
  }

  private detach(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
