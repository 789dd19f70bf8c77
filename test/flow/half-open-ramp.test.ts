/**
 * After an outage the breaker's probe succeeds and the circuit closes; the calls the open
 * circuit held then ramp up from one in flight instead of all going at once (trial of
 * issue 10: each half-open let ~20 calls burst into a proxy that took 6, and the breaker
 * opened again). Real breaker and flow; short real waits, no timed assertions.
 */
import { describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { callWithPolicy } from '../../src/flow/call-policy.js';
import { ProviderBreaker } from '../../src/flow/circuit-breaker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the breaker closing after an outage', () => {
  it('lets the held calls ramp up from one in flight, not burst', async () => {
    const flow = new AdaptiveFlow({ maxConcurrency: 10 });
    const breaker = new ProviderBreaker('half-open-ramp', { consecutiveFailures: 2, halfOpenAfterMs: 50 });
    const options = { flow, breaker, retry: { maxAttempts: 1 } };
    const down = () =>
      Promise.reject(new VisionpipeError('PROVIDER_UNAVAILABLE', 'HTTP 503', { status: 500 }));
    for (let i = 0; i < 2; i++) await callWithPolicy(down, options).catch(() => undefined);
    expect(breaker.state).toBe('open');
    await sleep(80);
    let inFlight = 0;
    let most = 0;
    const up = async () => {
      most = Math.max(most, ++inFlight);
      await sleep(20);
      inFlight--;
      return 'ok';
    };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => callWithPolicy(up, { ...options, retry: { maxAttempts: 3 } })),
    );
    expect(results.every((r) => r.value === 'ok')).toBe(true);
    expect(breaker.state).toBe('closed');
    // The probe alone, then from 1 in flight, +1 a success: not the 9 that waited for the probe at once.
    expect(most).toBeLessThanOrEqual(6);
    flow.close();
  });
});
