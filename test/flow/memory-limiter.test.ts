import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bucketRate } from '../../src/flow/bucket.js';
import type { GrantEvent } from '../../src/flow/limiter.js';
import { MemoryLimiter, type MemoryLimiterOptions } from '../../src/flow/memory-limiter.js';
import { maxInWindow } from './fixtures/sliding-window.js';

/** A limiter on the fake clock that records every grant. */
function fakeLimiter(options: MemoryLimiterOptions) {
  const grants: GrantEvent[] = [];
  const limiter = new MemoryLimiter({
    ...options,
    now: () => Date.now(),
    onGrant: (grant) => grants.push(grant),
  });
  return { limiter, grants, times: () => grants.map((grant) => grant.at) };
}

/** `count` callers queued at once, each recording its index when admitted (those left when the limiter closes are dropped). */
function queueCallers(limiter: MemoryLimiter, count: number, cost = {}) {
  const order: number[] = [];
  const done = Promise.all(
    Array.from({ length: count }, (_, i) =>
      limiter.acquire(cost).then(
        () => order.push(i),
        () => undefined,
      ),
    ),
  );
  return { order, done };
}

describe('MemoryLimiter (fake time)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('paces 120 RPM smoothly: a small burst, then ~2 per second, never a burst-then-starve', async () => {
    const { limiter, times } = fakeLimiter({ rpm: 120 });
    const start = Date.now();
    queueCallers(limiter, 50);
    await vi.advanceTimersByTimeAsync(3000);
    const granted = times().filter((t) => t <= start + 3000);
    // burst of 2 (one second's worth) + 3 s at just under 2/s
    expect(granted.length).toBeGreaterThanOrEqual(6);
    expect(granted.length).toBeLessThanOrEqual(8);
    expect(maxInWindow(granted, 1000)).toBeLessThanOrEqual(2 + 2);
    // evenly spaced after the burst: gaps of ~508 ms, none long
    const gaps = granted.slice(2).map((t, i) => t - granted[i + 1]!);
    for (const gap of gaps) expect(gap).toBeGreaterThan(400);
    for (const gap of gaps) expect(gap).toBeLessThan(600);
    await limiter.close();
  });

  it('never lets more than the limit through in any window of the interval, and stays near the ceiling', async () => {
    const { limiter, times } = fakeLimiter({ rpm: 60 });
    queueCallers(limiter, 400);
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    const granted = times();
    expect(maxInWindow(granted, 60_000)).toBeLessThanOrEqual(60);
    // 5 minutes at a 60/min ceiling: ≥ 0.97 of 300
    expect(granted.filter((t) => t < start + 5 * 60_000).length).toBeGreaterThanOrEqual(291);
    await limiter.close();
  });

  it('paces the token budget: a call costing more than the bucket still passes, in arrival order', async () => {
    // 6000 tokens/min: the bucket holds 100 tokens (one second's worth).
    const { limiter, grants } = fakeLimiter({ tpm: 6000 });
    const order: string[] = [];
    const calls = [
      limiter.acquire({ tokens: 50 }).then(() => order.push('small-1')),
      limiter.acquire({ tokens: 1000 }).then(() => order.push('big')),
      limiter.acquire({ tokens: 50 }).then(() => order.push('small-2')),
      limiter.acquire({ tokens: 50 }).then(() => order.push('small-3')),
    ];
    await vi.advanceTimersByTimeAsync(30_000);
    await Promise.all(calls);
    expect(order).toEqual(['small-1', 'big', 'small-2', 'small-3']);
    // the big call borrowed: the next small one waits until the debt is repaid (~9.5 s at ~98 tokens/s)
    const [, big, small2] = grants;
    expect(small2!.at - big!.at).toBeGreaterThan(9000);
    await limiter.close();
  });

  it('serves waiters first in, first out', async () => {
    const { limiter } = fakeLimiter({ rpm: 600 });
    const { order, done } = queueCallers(limiter, 30);
    await vi.advanceTimersByTimeAsync(10_000);
    await done;
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('checks both budgets: the tighter one decides', async () => {
    const { limiter, times } = fakeLimiter({ rpm: 6000, tpm: 60_000 });
    queueCallers(limiter, 100, { tokens: 1000 });
    await vi.advanceTimersByTimeAsync(10_000);
    // tokens allow ~1000/s → about one call per second, though requests would allow 100/s
    expect(times().length).toBeGreaterThanOrEqual(9);
    expect(times().length).toBeLessThanOrEqual(12);
    await limiter.close();
  });

  it('releases an aborted waiter at once, lets the next one move up, and leaves no timer behind', async () => {
    const { limiter } = fakeLimiter({ rpm: 60 });
    await limiter.acquire(); // uses the one-call burst
    const controller = new AbortController();
    const first = limiter.acquire({}, controller.signal);
    const secondDone = vi.fn();
    const second = limiter.acquire().then(secondDone);
    controller.abort(new Error('user cancelled'));
    await expect(first).rejects.toThrow('user cancelled');
    expect(limiter.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(1100);
    await second;
    expect(secondDone).toHaveBeenCalledOnce();
    expect(vi.getTimerCount()).toBe(0);
    // an already-aborted signal never queues
    await expect(limiter.acquire({}, AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
    expect(limiter.pending).toBe(0);
  });

  it('grants at once with no limits configured', async () => {
    const { limiter, grants } = fakeLimiter({});
    await Promise.all(Array.from({ length: 100 }, () => limiter.acquire({ tokens: 1e6 })));
    expect(grants).toHaveLength(100);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() rejects waiters with ABORTED and clears its timer', async () => {
    const { limiter } = fakeLimiter({ rpm: 1 });
    await limiter.acquire();
    const waiting = limiter.acquire();
    await limiter.close();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
    await expect(limiter.acquire()).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('MemoryLimiter adaptive pacing (fake time)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pauses everyone until a nearly used-up budget has room again (continuous refill)', async () => {
    const { limiter, times } = fakeLimiter({ rpm: 6000 });
    const start = Date.now();
    // 3 left of 500, full in 2 s: back above the 1 % margin after 2000 × 3 / 497 ≈ 12 ms.
    limiter.observe({ requests: { limit: 500, remaining: 3, resetMs: 2000 } });
    queueCallers(limiter, 3);
    await vi.advanceTimersByTimeAsync(10);
    expect(times()).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(times().length).toBeGreaterThan(0);
    expect(times()[0]).toBeGreaterThanOrEqual(start + 12);
    expect(times()[0]).toBeLessThan(start + 500);
    await limiter.close();
  });

  it('waits for the whole reset when the limit is not reported', async () => {
    const { limiter, times } = fakeLimiter({ rpm: 6000 });
    const start = Date.now();
    limiter.observe({ requests: { remaining: 0, resetMs: 2000 } });
    queueCallers(limiter, 1);
    await vi.advanceTimersByTimeAsync(1999);
    expect(times()).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    expect(times()[0]).toBeGreaterThanOrEqual(start + 2000);
    await limiter.close();
  });

  it('does not pause while the budget has room', async () => {
    const { limiter, grants } = fakeLimiter({});
    limiter.observe({
      requests: { limit: 500, remaining: 100, resetMs: 2000 },
      tokens: { remaining: 5, resetMs: 9 },
    });
    await limiter.acquire();
    expect(grants).toHaveLength(1);
  });

  it('blocks everyone for a 429 Retry-After, then restarts paced rather than in a burst', async () => {
    const { limiter, times } = fakeLimiter({ rpm: 120 });
    const start = Date.now();
    limiter.observe({ retryAfterMs: 5000 });
    queueCallers(limiter, 10);
    await vi.advanceTimersByTimeAsync(4999);
    expect(times()).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(times().every((t) => t >= start + 5000)).toBe(true);
    // no burst after the pause: the buckets were emptied at its end
    expect(maxInWindow(times(), 1000)).toBeLessThanOrEqual(2);
    await limiter.close();
  });

  it('caps a pause at maxPauseMs', async () => {
    const { limiter, times } = fakeLimiter({ maxPauseMs: 1000 });
    const start = Date.now();
    limiter.observe({ retryAfterMs: 3_600_000 });
    const done = limiter.acquire();
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    expect(times()).toEqual([start + 1000]);
  });
});

describe('MemoryLimiter (real time)', () => {
  it('paces on the real clock with a single timer', async () => {
    const limiter = new MemoryLimiter({ rpm: 20, intervalMs: 1000, burstMs: 100 });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, () => limiter.acquire().then(() => times.push(performance.now()))),
    );
    // 2 at once, then one every ~56 ms: 8 calls take ≥ 300 ms, never 8 at once
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(300);
    await limiter.close();
  });
});

describe('bucketRate', () => {
  it('keeps capacity + rate × interval at the limit', () => {
    for (const [limit, burstMs] of [
      [300, 1000],
      [60, 1000],
      [10, 1000],
      [1, 1000],
      [90_000, 500],
    ] as const) {
      const rate = bucketRate(limit, 60_000, burstMs, 0);
      expect(rate.capacity + rate.perMs * 60_000).toBeCloseTo(limit, 6);
      expect(rate.perMs).toBeGreaterThan(0);
    }
    expect(bucketRate(300, 60_000, 1000, 0).capacity).toBe(5);
    expect(bucketRate(10, 60_000, 1000, 0).capacity).toBe(1);
  });

  it('rejects bad options by name', () => {
    expect(() => new MemoryLimiter({ rpm: -1 })).toThrow(/rpm/);
    expect(() => new MemoryLimiter({ headroom: 0.9 })).toThrow(/headroom/);
  });
});
