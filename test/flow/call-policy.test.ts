import { describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { callWithPolicy, withTimeout } from '../../src/flow/call-policy.js';
import { ProviderBreaker } from '../../src/flow/circuit-breaker.js';
import type { Limiter, LimiterCost } from '../../src/flow/limiter.js';
import { MemoryLimiter } from '../../src/flow/memory-limiter.js';
import { attemptsOf } from '../../src/flow/retry.js';
import type { RateLimitSnapshot } from '../../src/providers/spec.js';

/** A limiter that grants at once and records what it was told. */
function spyLimiter() {
  const events: string[] = [];
  const observed: (RateLimitSnapshot | undefined)[] = [];
  const limiter: Limiter = {
    acquire: async (cost?: LimiterCost) => {
      events.push(`acquire:${cost?.tokens ?? 0}`);
    },
    observe: (snapshot) => {
      events.push('observe');
      observed.push(snapshot);
    },
    close: async () => {},
  };
  return { limiter, events, observed };
}

const fastRetry = { random: () => 0, sleep: async () => {} };

describe('callWithPolicy', () => {
  it('acquires before each attempt and feeds the response headers back to the limiter', async () => {
    const { limiter, events, observed } = spyLimiter();
    const rateLimit = { requests: { limit: 10, remaining: 9, resetMs: 100 } };
    const result = await callWithPolicy(
      async () => {
        events.push('call');
        return { output: 1, rateLimit };
      },
      { limiter, cost: { tokens: 800 } },
    );
    expect(result).toEqual({ value: { output: 1, rateLimit }, attempts: 1 });
    expect(events).toEqual(['acquire:800', 'call', 'observe']);
    expect(observed).toEqual([rateLimit]);
  });

  it('on a 429, pauses the limiter for its Retry-After and retries; attempts counts every try', async () => {
    const { limiter, events, observed } = spyLimiter();
    let calls = 0;
    const result = await callWithPolicy(
      async () => {
        events.push('call');
        if (++calls < 3)
          throw new VisionpipeError('RATE_LIMITED', '429', { status: 429, retryAfterMs: 1500 });
        return { rateLimit: undefined };
      },
      { limiter, retry: fastRetry },
    );
    expect(result.attempts).toBe(3);
    expect(observed.slice(0, 2)).toEqual([{ retryAfterMs: 1500 }, { retryAfterMs: 1500 }]);
    expect(events.filter((e) => e.startsWith('acquire'))).toHaveLength(3);
  });

  it('a 429 without Retry-After still pauses everyone briefly', async () => {
    const { limiter, observed } = spyLimiter();
    await callWithPolicy(
      vi
        .fn()
        .mockRejectedValueOnce(new VisionpipeError('RATE_LIMITED', '429', { status: 429 }))
        .mockResolvedValue({}),
      { limiter, retry: fastRetry, rateLimitPauseMs: 700 },
    );
    expect(observed[0]).toEqual({ retryAfterMs: 700 });
  });

  it('fails fast on quota exhaustion with its code and one attempt', async () => {
    const { limiter, observed } = spyLimiter();
    const quota = new VisionpipeError('QUOTA_EXCEEDED', 'insufficient_quota', { status: 429 });
    const fn = vi.fn().mockRejectedValue(quota);
    const error = await callWithPolicy(fn, { limiter, retry: fastRetry }).catch((e: unknown) => e);
    expect(error).toBe(quota);
    expect(fn).toHaveBeenCalledOnce();
    expect(attemptsOf(error)).toBe(1);
    expect(observed).toEqual([]);
  });

  it('times out a hung attempt as PROVIDER_TIMEOUT, aborts its signal, and retries', async () => {
    const signals: AbortSignal[] = [];
    let calls = 0;
    const result = await callWithPolicy(
      (_attempt, signal) => {
        signals.push(signal);
        if (++calls === 1) return new Promise<never>(() => {}); // ignores its signal entirely
        return Promise.resolve({ ok: true });
      },
      { timeoutMs: 30, retry: fastRetry },
    );
    expect(result).toEqual({ value: { ok: true }, attempts: 2 });
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toMatchObject({ code: 'PROVIDER_TIMEOUT' });
    expect(signals[1]!.aborted).toBe(false);
  });

  it('the timeout covers the call, not the wait for a limiter slot', async () => {
    // one call per 400 ms: the second caller waits ~400 ms for its slot, longer than the 100 ms timeout
    const limiter = new MemoryLimiter({ rpm: 2, intervalMs: 400 });
    await limiter.acquire();
    const started = performance.now();
    const result = await callWithPolicy(async () => ({ ok: true }), {
      limiter,
      timeoutMs: 100,
      retry: { maxAttempts: 1 },
    });
    expect(result).toEqual({ value: { ok: true }, attempts: 1 });
    expect(performance.now() - started).toBeGreaterThan(300);
    await limiter.close();
  });

  it('aborts end to end: the attempt sees the abort and the call rejects with the reason at once', async () => {
    const controller = new AbortController();
    let attemptSignal: AbortSignal | undefined;
    const promise = callWithPolicy(
      (_attempt, signal) => {
        attemptSignal = signal;
        return new Promise<never>(() => {});
      },
      { signal: controller.signal, retry: fastRetry },
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('run stopped'));
    await expect(promise).rejects.toThrow('run stopped');
    expect(attemptSignal?.aborted).toBe(true);
  });

  it('aborts a caller waiting for the limiter', async () => {
    const limiter = new MemoryLimiter({ rpm: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const fn = vi.fn(async () => ({}));
    const promise = callWithPolicy(fn, { limiter, signal: controller.signal });
    controller.abort(new Error('bye'));
    await expect(promise).rejects.toThrow('bye');
    expect(fn).not.toHaveBeenCalled();
    expect(limiter.pending).toBe(0);
    await limiter.close();
  });

  it('an outage opens the breaker; later calls fail fast with CIRCUIT_OPEN and do not touch the provider or the limiter', async () => {
    const breaker = new ProviderBreaker('sim', { consecutiveFailures: 3, halfOpenAfterMs: 60_000 });
    const { limiter, events } = spyLimiter();
    const fn = vi.fn(async () => {
      throw new VisionpipeError('PROVIDER_UNAVAILABLE', 'HTTP 503', { status: 503 });
    });
    const first = await callWithPolicy(fn, {
      breaker,
      limiter,
      retry: { ...fastRetry, maxAttempts: 3 },
    }).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(breaker.state).toBe('open');
    expect(fn).toHaveBeenCalledTimes(3);

    events.length = 0;
    const second = await callWithPolicy(fn, {
      breaker,
      limiter,
      retry: { ...fastRetry, maxTotalWaitMs: 10_000 },
    }).catch((e: unknown) => e);
    // The next probe (60 s) is due after the budget (10 s) ends: fail fast, not sent, no attempt spent
    expect(second).toMatchObject({ code: 'CIRCUIT_OPEN', retryable: false });
    expect((second as Error).message).toMatch(
      /next probe is due in 60 s, after what --max-retry-wait \(10 s for one image\) leaves \(10 s\)/,
    );
    expect(attemptsOf(second)).toBe(0);
    expect(fn).toHaveBeenCalledTimes(3);
    expect(events).toEqual([]);
  });

  it('an open breaker is waited out when the retry budget allows, and a good probe closes it', async () => {
    const breaker = new ProviderBreaker('sim2', { consecutiveFailures: 1, halfOpenAfterMs: 40 });
    let healthy = false;
    const fn = vi.fn(async () => {
      if (!healthy) throw new VisionpipeError('CONNECTION_FAILED', 'reset');
      return { ok: true };
    });
    await callWithPolicy(fn, { breaker, retry: { maxAttempts: 1 } }).catch(() => {});
    expect(breaker.state).toBe('open');
    healthy = true;
    const result = await callWithPolicy(fn, { breaker, retry: { baseDelayMs: 1 } });
    expect(result.value).toEqual({ ok: true });
    expect(result.attempts).toBe(1); // the wait on the open breaker is no attempt: the probe is the first
    expect(breaker.state).toBe('closed');
  });
});

describe('withTimeout', () => {
  it('clears its timer when the call settles first', async () => {
    vi.useFakeTimers();
    try {
      await expect(withTimeout(async () => 5, 1000, undefined)).resolves.toBe(5);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
