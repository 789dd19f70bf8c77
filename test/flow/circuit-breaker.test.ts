import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import {
  type BreakerStateChange,
  breakerFor,
  isHealthFailure,
  ProviderBreaker,
  resetBreakers,
} from '../../src/flow/circuit-breaker.js';

const outage = () => new VisionpipeError('PROVIDER_UNAVAILABLE', 'HTTP 503', { status: 503 });
const fail = (error: unknown) => async () => {
  throw error;
};
const succeed = async () => 'ok';

/** Runs `fn` through the breaker and returns the error it threw (or the value). */
const settle = <T>(breaker: ProviderBreaker, fn: () => Promise<T>) =>
  breaker.execute(fn).catch((error: unknown) => error);

describe('ProviderBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
    resetBreakers();
  });

  it('opens after the failure streak and then fails fast with CIRCUIT_OPEN, without calling the provider', async () => {
    const breaker = new ProviderBreaker('openai', { consecutiveFailures: 3, halfOpenAfterMs: 10_000 });
    for (let i = 0; i < 2; i++) await settle(breaker, fail(outage()));
    expect(breaker.state).toBe('closed');
    const third = outage();
    expect(await settle(breaker, fail(third))).toBe(third); // the tripping error itself is passed through
    expect(breaker.state).toBe('open');

    const provider = vi.fn(succeed);
    const error = await settle(breaker, provider);
    expect(provider).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(VisionpipeError);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', retryable: true, retryAfterMs: 10_000 });
    expect((error as Error).message).toMatch(/openai.*HTTP 503/);

    vi.advanceTimersByTime(4000);
    expect(await settle(breaker, provider)).toMatchObject({ code: 'CIRCUIT_OPEN', retryAfterMs: 6000 });
  });

  it('a success breaks the streak', async () => {
    const breaker = new ProviderBreaker('p', { consecutiveFailures: 3 });
    await settle(breaker, fail(outage()));
    await settle(breaker, fail(outage()));
    await settle(breaker, succeed);
    await settle(breaker, fail(outage()));
    await settle(breaker, fail(outage()));
    expect(breaker.state).toBe('closed');
  });

  it('counts only provider-health failures: bad requests, auth, schema and 429s never open it', async () => {
    const breaker = new ProviderBreaker('p', { consecutiveFailures: 2 });
    const notHealth = [
      new VisionpipeError('BAD_REQUEST', '400', { status: 400 }),
      new VisionpipeError('AUTH_FAILED', '401', { status: 401 }),
      new VisionpipeError('SCHEMA_MISMATCH', 'bad output'),
      new VisionpipeError('RATE_LIMITED', '429', { status: 429 }),
      new TypeError('a bug'),
    ];
    for (const error of notHealth) {
      expect(await settle(breaker, fail(error))).toBe(error);
      expect(await settle(breaker, fail(error))).toBe(error);
    }
    expect(breaker.state).toBe('closed');
    for (const code of ['PROVIDER_TIMEOUT', 'CONNECTION_FAILED', 'BAD_RESPONSE'] as const) {
      expect(isHealthFailure(new VisionpipeError(code, code))).toBe(true);
    }
    expect(isHealthFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
  });

  it('half-opens after halfOpenAfterMs: a successful probe closes it', async () => {
    const breaker = new ProviderBreaker('p', { consecutiveFailures: 1, halfOpenAfterMs: 5000 });
    await settle(breaker, fail(outage()));
    expect(breaker.state).toBe('open');
    vi.advanceTimersByTime(5000);
    expect(breaker.retryAfterMs).toBe(0);
    expect(await settle(breaker, succeed)).toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(await settle(breaker, succeed)).toBe('ok');
  });

  it('half-open lets one probe through; concurrent callers wait for its outcome', async () => {
    const breaker = new ProviderBreaker('p', { consecutiveFailures: 1, halfOpenAfterMs: 5000 });
    await settle(breaker, fail(outage()));
    vi.advanceTimersByTime(5000);
    let release!: () => void;
    const probe = vi.fn(() => new Promise<string>((resolve) => (release = () => resolve('probe'))));
    const other = vi.fn(succeed);
    const first = settle(breaker, probe);
    const second = settle(breaker, other);
    await Promise.resolve();
    expect(breaker.state).toBe('half-open');
    expect(probe).toHaveBeenCalledOnce();
    expect(other).not.toHaveBeenCalled();
    release();
    expect(await first).toBe('probe');
    expect(await second).toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('a failed probe opens it again for half as long again, up to maxHalfOpenAfterMs; a close starts over', async () => {
    const breaker = new ProviderBreaker('p', {
      consecutiveFailures: 1,
      halfOpenAfterMs: 5000,
      maxHalfOpenAfterMs: 12_000,
    });
    await settle(breaker, fail(outage()));
    expect(breaker.retryAfterMs).toBe(5000);
    vi.advanceTimersByTime(5000);
    await settle(breaker, fail(outage()));
    expect(breaker.state).toBe('open');
    expect(await settle(breaker, succeed)).toMatchObject({ code: 'CIRCUIT_OPEN', retryAfterMs: 7500 });
    vi.advanceTimersByTime(7500);
    await settle(breaker, fail(outage()));
    expect(breaker.retryAfterMs).toBe(11_250);
    vi.advanceTimersByTime(11_250);
    await settle(breaker, fail(outage()));
    expect(breaker.retryAfterMs).toBe(12_000);
    vi.advanceTimersByTime(12_000);
    expect(await settle(breaker, succeed)).toBe('ok');
    // A new outage after a close waits the first wait again.
    await settle(breaker, fail(outage()));
    expect(breaker.retryAfterMs).toBe(5000);
    vi.advanceTimersByTime(4999);
    expect(await settle(breaker, succeed)).toMatchObject({ code: 'CIRCUIT_OPEN' });
  });

  it('waits 4 s before the first probe by default, and at most 30 s', async () => {
    const breaker = new ProviderBreaker('p', { consecutiveFailures: 1 });
    await settle(breaker, fail(outage()));
    expect(breaker.retryAfterMs).toBe(4000);
    for (const ms of [4000, 6000, 9000, 13_500, 20_250, 30_000]) {
      expect(breaker.retryAfterMs).toBe(ms);
      vi.advanceTimersByTime(ms);
      await settle(breaker, fail(outage()));
    }
    expect(breaker.retryAfterMs).toBe(30_000);
  });

  it('reports state changes for logging', async () => {
    const breaker = new ProviderBreaker('anthropic', { consecutiveFailures: 1, halfOpenAfterMs: 1000 });
    const changes: BreakerStateChange[] = [];
    breaker.onStateChange((change) => changes.push(change));
    const error = outage();
    await settle(breaker, fail(error));
    vi.advanceTimersByTime(1000);
    await settle(breaker, succeed);
    expect(changes).toEqual([
      { providerId: 'anthropic', state: 'open', retryAfterMs: 1000, error },
      { providerId: 'anthropic', state: 'half-open' },
      { providerId: 'anthropic', state: 'closed' },
    ]);
  });

  it('can open on a failure ratio over a window', async () => {
    const breaker = new ProviderBreaker('p', {
      consecutiveFailures: 1000,
      failureRatio: 0.5,
      ratioWindowMs: 10_000,
      minimumRps: 0.5,
    });
    for (let i = 0; i < 12 && breaker.state === 'closed'; i++) {
      await settle(breaker, i % 3 === 0 ? succeed : fail(outage()));
      vi.advanceTimersByTime(100);
    }
    expect(breaker.state).toBe('open');
  });

  it('passes the abort signal through and rejects with its reason', async () => {
    vi.useRealTimers();
    const breaker = new ProviderBreaker('p');
    const controller = new AbortController();
    const run = breaker.execute(
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        ),
      controller.signal,
    );
    controller.abort(new Error('stop'));
    await expect(run).rejects.toThrow('stop');
  });

  it('breakerFor shares one breaker per provider in the process', () => {
    const a = breakerFor('openai', { consecutiveFailures: 2 });
    expect(breakerFor('openai')).toBe(a);
    expect(breakerFor('anthropic')).not.toBe(a);
    resetBreakers();
    expect(breakerFor('openai')).not.toBe(a);
  });

  it('rejects bad options by name', () => {
    expect(() => new ProviderBreaker('p', { consecutiveFailures: 0 })).toThrow(/consecutiveFailures/);
    expect(() => new ProviderBreaker('p', { failureRatio: 2 })).toThrow(/failureRatio/);
  });
});
