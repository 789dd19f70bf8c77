/**
 * --max-retry-wait is a per-image budget on the wait to send refused calls again
 * (issue 13: records showed wait_ms 8–10 s with a 4 s budget, because only the flow's
 * known pause was checked, not how long the call then really waited). Real AdaptiveFlow;
 * a limiter that, after the first send, never grants until aborted.
 */
import { describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { callWithPolicy } from '../../src/flow/call-policy.js';
import type { Limiter } from '../../src/flow/limiter.js';
import { attemptsOf } from '../../src/flow/retry.js';

/** Grants the first acquire; every later one waits until its signal aborts. */
function stuckAfterFirst(): Limiter {
  let granted = 0;
  return {
    acquire: (_cost, signal) =>
      granted++ === 0
        ? Promise.resolve()
        : new Promise<void>((_, reject) => {
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
          }),
    observe: () => {},
    close: async () => {},
  };
}

const refuse = async (): Promise<never> => {
  throw new VisionpipeError('RATE_LIMITED', 'HTTP 429', { status: 429, retryAfterMs: 50 });
};

describe('the rate-limit wait budget', () => {
  it('cuts a wait to send again off at the budget: RATE_LIMITED, wait_ms never past it', async () => {
    const tally = { count: 0, waitMs: 0 };
    const call = callWithPolicy(refuse, {
      flow: new AdaptiveFlow({ maxConcurrency: 4 }),
      limiter: stuckAfterFirst(),
      tally,
      retry: { maxTotalWaitMs: 300 },
    });
    await expect(call).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(call).rejects.toThrow(/--max-retry-wait budget of 0.3 s for one image/);
    expect(tally.count).toBe(1);
    expect(tally.waitMs).toBeGreaterThan(0);
    expect(tally.waitMs).toBeLessThanOrEqual(300);
  });

  it('is the image’s: waits already spent by its other calls count', async () => {
    const tally = { count: 1, waitMs: 280 };
    let calls = 0;
    const call = callWithPolicy(
      async () => {
        calls++;
        return refuse();
      },
      { flow: new AdaptiveFlow({ maxConcurrency: 4 }), tally, retry: { maxTotalWaitMs: 300 } },
    );
    await expect(call).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(calls).toBe(1); // the 50 ms pause ahead would overrun what is left: no second send
    expect(tally.waitMs).toBeLessThanOrEqual(300);
  });

  it('stops at once when another image’s refusal pushes the pause past the budget: no idle wait', async () => {
    const flow = new AdaptiveFlow({ maxConcurrency: 4 });
    let releaseOther!: () => void;
    const otherHeld = new Promise<void>((resolve) => {
      releaseOther = resolve;
    });
    // Another image's call in flight, refused later with a long Retry-After (8 s: believed at
    // once; a wait over 10 s and 4× the longest believed would be tested by one call first).
    const other = callWithPolicy(
      async () => {
        await otherHeld;
        throw new VisionpipeError('RATE_LIMITED', 'HTTP 429', { status: 429, retryAfterMs: 8000 });
      },
      { flow, retry: { maxTotalWaitMs: 5000 } },
    );
    const tally = { count: 0, waitMs: 0 };
    let sends = 0;
    const call = callWithPolicy(
      async () => {
        sends++;
        // Refused with a short pause; while it waits, the other image's 8 s refusal lands.
        setTimeout(releaseOther, 10);
        throw new VisionpipeError('RATE_LIMITED', 'HTTP 429', { status: 429, retryAfterMs: 200 });
      },
      { flow, tally, retry: { maxTotalWaitMs: 5000 } },
    );
    await expect(other).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(call).rejects.toThrow(/the next wait would overrun the --max-retry-wait budget of 5 s/);
    // Its own refusal named 0.2 s: the wait ahead is the flow's pause, as long as the other's 8 s.
    await expect(call).rejects.toThrow(
      /the provider's pause ahead is [\d.]+ s; --max-retry-wait leaves [\d.]+ s/,
    );
    expect(sends).toBe(1);
    expect(tally.waitMs).toBeLessThan(5000); // not sat out to the end of the budget
  });

  it('fails at once when the server asks for a longer wait than the budget leaves, naming both figures', async () => {
    const tally = { count: 0, waitMs: 0 };
    let sends = 0;
    // 8 s: believed at once (not over 10 s); the budget is 5 s, nothing waited yet.
    const call = callWithPolicy(
      async () => {
        sends++;
        throw new VisionpipeError('RATE_LIMITED', 'HTTP 429', { status: 429, retryAfterMs: 8000 });
      },
      { flow: new AdaptiveFlow({ maxConcurrency: 4 }), tally, retry: { maxTotalWaitMs: 5000 } },
    );
    await expect(call).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await expect(call).rejects.toThrow(
      /the server asks to wait 8 s; --max-retry-wait leaves 5 s, so the image fails now rather than wait/,
    );
    expect(sends).toBe(1);
    expect(tally).toEqual({ count: 1, waitMs: 0 }); // not a moment sat out
  });

  it('counts no attempt for a call that was only ever refused (attempts are calls not refused)', async () => {
    const call = callWithPolicy(refuse, {
      flow: new AdaptiveFlow({ maxConcurrency: 4 }),
      tally: { count: 0, waitMs: 0 },
      retry: { maxTotalWaitMs: 120 },
    });
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'RATE_LIMITED' });
    expect(attemptsOf(error)).toBe(0);
  });
});
