import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ErrorCode, VisionpipeError } from '../../src/errors.js';
import { attemptsOf, RETRY_BY_STATUS, type RetryOptions, retry } from '../../src/flow/retry.js';
import { parseRetryAfter } from '../../src/flow/retry-after.js';

/** Records the waits instead of sleeping. */
function recorder(extra: RetryOptions = {}) {
  const delays: number[] = [];
  const options: RetryOptions = {
    random: () => 1,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...extra,
  };
  return { delays, options };
}

/** fn that throws `errors` in turn, then returns 'ok'. */
function failing(...errors: unknown[]) {
  const seen: number[] = [];
  const fn = async (attempt: number) => {
    seen.push(attempt);
    const error = errors[attempt - 1];
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { fn, seen };
}

const httpError = (status: number, code: ErrorCode = 'PROVIDER_UNAVAILABLE', retryAfterMs?: number) =>
  new VisionpipeError(code, `HTTP ${status}`, { status, retryAfterMs });

describe('retry', () => {
  it.each([408, 409, 429, 500, 502, 503, 504, 529])('retries HTTP %d', async (status) => {
    const code: ErrorCode = status === 429 ? 'RATE_LIMITED' : 'PROVIDER_UNAVAILABLE';
    const { fn } = failing(httpError(status, code));
    const { options } = recorder();
    await expect(retry(fn, options)).resolves.toEqual({ value: 'ok', attempts: 2 });
  });

  it.each([400, 401, 403, 404, 413, 422])(
    'never retries HTTP %d, even if the error claims it could',
    async (status) => {
      const error = new VisionpipeError('BAD_REQUEST', `HTTP ${status}`, { status, retryable: true });
      const { fn, seen } = failing(error);
      const { options, delays } = recorder();
      await expect(retry(fn, options)).rejects.toBe(error);
      expect(seen).toEqual([1]);
      expect(delays).toEqual([]);
      expect(attemptsOf(error)).toBe(1);
    },
  );

  it('never retries a quota or spend-limit 429 (QUOTA_EXCEEDED)', async () => {
    const error = new VisionpipeError('QUOTA_EXCEEDED', 'insufficient_quota', {
      status: 429,
      retryAfterMs: 10,
    });
    const { fn, seen } = failing(error);
    await expect(retry(fn, recorder().options)).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(seen).toEqual([1]);
  });

  it('without a status, follows the error code: retryable codes yes, others no', async () => {
    const { options } = recorder();
    await expect(
      retry(failing(new VisionpipeError('CONNECTION_FAILED', 'reset')).fn, options),
    ).resolves.toMatchObject({ attempts: 2 });
    await expect(
      retry(failing(new VisionpipeError('PROVIDER_TIMEOUT', 'slow')).fn, options),
    ).resolves.toMatchObject({ attempts: 2 });
    const schema = new VisionpipeError('SCHEMA_MISMATCH', 'bad output');
    await expect(retry(failing(schema).fn, options)).rejects.toBe(schema);
  });

  it('retries raw connection resets and timeouts, not programming errors', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const wrapped = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }),
    });
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const { options } = recorder();
    await expect(retry(failing(reset, wrapped, timeout).fn, options)).resolves.toEqual({
      value: 'ok',
      attempts: 4,
    });
    const bug = new TypeError('undefined is not a function');
    await expect(retry(failing(bug).fn, options)).rejects.toBe(bug);
  });

  it('waits with full jitter: random() × min(maxDelay, base × 2^(attempt-1))', async () => {
    const { options, delays } = recorder({
      baseDelayMs: 100,
      maxDelayMs: 500,
      maxAttempts: 6,
      random: () => 0.5,
    });
    const errors = Array.from({ length: 5 }, () => httpError(503));
    await expect(retry(failing(...errors).fn, options)).resolves.toEqual({ value: 'ok', attempts: 6 });
    expect(delays).toEqual([50, 100, 200, 250, 250]);
  });

  it('honours Retry-After in seconds even when longer than the backoff and maxDelayMs', async () => {
    const retryAfterMs = parseRetryAfter({ 'retry-after': '45' });
    const { options, delays } = recorder({ maxDelayMs: 1000, random: () => 0 });
    await retry(failing(httpError(429, 'RATE_LIMITED', retryAfterMs)).fn, options);
    expect(delays).toEqual([45_000]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const now = Date.now();
    const date = new Date(now + 12_000).toUTCString();
    const retryAfterMs = parseRetryAfter({ 'retry-after': date }, now);
    const { options, delays } = recorder({ random: () => 0 });
    await retry(failing(httpError(503, 'PROVIDER_UNAVAILABLE', retryAfterMs)).fn, options);
    // An HTTP date has whole seconds: 11–12 s left.
    expect(delays[0]).toBeGreaterThan(11_000);
    expect(delays[0]).toBeLessThanOrEqual(12_000);
  });

  it('honours retry-after-ms', async () => {
    const retryAfterMs = parseRetryAfter({ 'retry-after-ms': '2500' });
    const { options, delays } = recorder({ random: () => 0.1 });
    await retry(failing(httpError(429, 'RATE_LIMITED', retryAfterMs)).fn, options);
    expect(delays).toEqual([2500]);
  });

  it('uses the backoff when it is longer than Retry-After', async () => {
    const { options, delays } = recorder({ baseDelayMs: 1000, random: () => 1 });
    await retry(failing(httpError(429, 'RATE_LIMITED', 10)).fn, options);
    expect(delays).toEqual([1000]);
  });

  it('stops after maxAttempts and tells how many were made', async () => {
    const errors = Array.from({ length: 10 }, (_, i) => httpError(500, 'PROVIDER_UNAVAILABLE', i));
    const { fn, seen } = failing(...errors);
    const { options } = recorder({ maxAttempts: 3 });
    const thrown = await retry(fn, options).catch((error: unknown) => error);
    expect(thrown).toBe(errors[2]);
    expect(seen).toEqual([1, 2, 3]);
    expect(attemptsOf(thrown)).toBe(3);
  });

  it('gives up rather than wait past maxTotalWaitMs, keeping the original error and code', async () => {
    const errors = [httpError(503), httpError(429, 'RATE_LIMITED', 60_000)];
    const { fn, seen } = failing(...errors);
    const { options, delays } = recorder({ maxTotalWaitMs: 30_000, baseDelayMs: 100 });
    const thrown = await retry(fn, options).catch((error: unknown) => error);
    expect(thrown).toBe(errors[1]);
    expect((thrown as VisionpipeError).code).toBe('RATE_LIMITED');
    expect(seen).toEqual([1, 2]);
    expect(delays).toEqual([100]);
    expect(attemptsOf(thrown)).toBe(2);
  });

  it('reports each retry', async () => {
    const infos: unknown[] = [];
    const error = httpError(502);
    await retry(
      failing(error).fn,
      recorder({ baseDelayMs: 10, onRetry: (info) => infos.push(info) }).options,
    );
    expect(infos).toEqual([{ attempt: 1, error, delayMs: 10, totalWaitMs: 10 }]);
  });

  it('waits out an open circuit (CIRCUIT_OPEN carries the time until the probe)', async () => {
    const open = new VisionpipeError('CIRCUIT_OPEN', 'paused', { retryAfterMs: 7000 });
    const { options, delays } = recorder({ random: () => 0 });
    await expect(retry(failing(open).fn, options)).resolves.toMatchObject({ attempts: 2 });
    expect(delays).toEqual([7000]);
  });

  it('aborts promptly during a backoff wait, with the signal reason, and never calls fn again', async () => {
    const controller = new AbortController();
    const { fn, seen } = failing(httpError(503), httpError(503));
    const started = Date.now();
    const promise = retry(fn, { signal: controller.signal, baseDelayMs: 60_000, random: () => 1 });
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(promise).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(seen).toEqual([1]);
  });

  it('passes the signal to fn and does not retry once it aborted', async () => {
    const controller = new AbortController();
    let seenSignal: AbortSignal | undefined;
    const promise = retry(
      async (_attempt, signal) => {
        seenSignal = signal;
        controller.abort(new Error('cancelled'));
        throw httpError(503);
      },
      recorder({ signal: controller.signal }).options,
    );
    await expect(promise).rejects.toThrow('cancelled');
    expect(seenSignal).toBe(controller.signal);
  });

  it('rejects invalid options by name', async () => {
    await expect(retry(async () => 1, { maxAttempts: 0 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      option: 'maxAttempts',
    });
  });
});

describe('docs/flow-control.md', () => {
  it('lists exactly the retry table the code uses', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/flow-control.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| (\d{3}) \| (yes|no)\b/gm)].map((m) => [Number(m[1]), m[2] === 'yes']);
    expect(Object.fromEntries(rows)).toEqual(RETRY_BY_STATUS);
  });
});
