/**
 * A server that refuses every call for a spell, then serves (trial of issue 10:
 * `--max-retry-wait 20s` against 15 s of `Retry-After: 5`, 3 of 20 images lost). Refused
 * calls are sent again ahead of calls not sent yet, the earliest budget end first, and a
 * round where every call was refused (the first to reach the server included) is not read
 * as a cap on calls at once: the flow leaves the spell with the calls in flight it had,
 * not one by one. No image fails
 * while its budget remains. Deterministic: callWithPolicy and the flow on a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { callWithPolicy } from '../../src/flow/call-policy.js';
import type { ThrottleTally } from '../../src/flow/throttle.js';

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

const IMAGES = 20;
const SPELL_MS = 15_000;
const BUDGET_MS = 20_000;

interface Send {
  image: number;
  refusedBefore: boolean;
  served: boolean;
}

/** Every image's call through one flow against a server refusing all calls for SPELL_MS (Retry-After: 5). */
async function spell() {
  const flow = new AdaptiveFlow({ maxConcurrency: 1024, now: () => performance.now() });
  const start = performance.now();
  const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const sends: Send[] = [];
  let inFlight = 0;
  let maxInFlightServed = 0;
  const tallies: ThrottleTally[] = [];
  const calls = Array.from({ length: IMAGES }, (_, image) => {
    const tally = { count: 0, waitMs: 0 };
    tallies.push(tally);
    return callWithPolicy(
      async () => {
        await delay(10);
        const served = performance.now() - start >= SPELL_MS;
        sends.push({ image, refusedBefore: tally.count > 0, served });
        if (!served)
          throw new VisionpipeError('RATE_LIMITED', 'HTTP 429', { status: 429, retryAfterMs: 5000 });
        maxInFlightServed = Math.max(maxInFlightServed, ++inFlight);
        await delay(300);
        inFlight--;
        return image;
      },
      { flow, tally, retry: { maxTotalWaitMs: BUDGET_MS } },
    ).then(
      () => 'ok',
      (error: unknown) => (error instanceof VisionpipeError ? error.code : 'INTERNAL'),
    );
  });
  let outcomes: string[] | undefined;
  void Promise.all(calls).then((all) => {
    outcomes = all;
  });
  for (let i = 0; i < 20_000 && outcomes === undefined; i++) await vi.advanceTimersByTimeAsync(5);
  flow.close();
  return { outcomes, sends, tallies, maxInFlightServed };
}

describe('a server that refuses every call for 15 s, then serves, with a 20 s budget', () => {
  it('loses no image: each one’s wait stays within its budget', async () => {
    const { outcomes, tallies } = await spell();
    expect(outcomes).toEqual(Array.from({ length: IMAGES }, () => 'ok'));
    for (const tally of tallies) expect(tally.waitMs).toBeLessThanOrEqual(BUDGET_MS);
  });

  it('sends the refused images first once the spell ends, before any image not sent yet', async () => {
    const { sends } = await spell();
    const after = sends.filter((s) => s.served);
    const refused = new Set(sends.filter((s) => !s.served).map((s) => s.image));
    expect(refused.size).toBeGreaterThan(1);
    const firstNew = after.findIndex((s) => !refused.has(s.image));
    // Every refused image is served before the first image that was never refused.
    expect(
      after
        .slice(0, firstNew)
        .map((s) => s.image)
        .sort(),
    ).toEqual([...refused].sort());
    expect(after.slice(0, firstNew).every((s) => s.refusedBefore)).toBe(true);
  });

  it('leaves the spell with several calls in flight, not one by one (a spell that refused every call is no cap)', async () => {
    const { maxInFlightServed } = await spell();
    expect(maxInFlightServed).toBeGreaterThanOrEqual(8);
  });
});
