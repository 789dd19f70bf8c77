/**
 * A paced rate limit that falls mid-run (trial of issue 10: a token bucket going from 20/s to
 * 6/s at 8 s, as when a provider lowers a tier or another tenant takes a share; 12 % of the
 * calls refused). The flow cut by β = 0.9 per round of refusals from what the server took
 * over the last two seconds, which still held the faster limit's last second: a refusal per
 * round, ten rounds, to come down to 6/s. Now each further round of one episode of refusals
 * (refusals less than 2 s apart) cuts by β once more (β², β³…, at most halving).
 *
 * Before → after, this model, refusals after the drop (c10, c20 seed 7, c20 seed 11, c50), a
 * bucket that keeps its 20-call burst, bare 429s: 8, 11, 9, 10 → 6, 7, 6, 6; the new rate
 * used at 6.0-6.2/s 3-8 s after the drop before, 5.2-6.0/s after (the deeper cut costs c10
 * 0.6 s of 19 s); with `Retry-After: 1` on each 429 (its pause spaces the rounds): 5, 5 → 5, 5.
 *
 * Deterministic (test/support/flow-drive.ts: fake clock, seeded transit and latency).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { changingBucket, type DriveRun, driveFlow, type GateAnswer } from '../support/flow-drive.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

const DROP_MS = 8000;
const rateAt = (ms: number) => (ms < DROP_MS ? 20 : 6);

/**
 * A token bucket holding up to 20 calls whose refill falls from 20/s to 6/s at 8 s; bare 429s
 * (no Retry-After, no budget headers): a limit lowered without the bucket being rebuilt.
 */
function fallingBucket(): (now: number) => GateAnswer {
  let first: number | undefined;
  let last: number | undefined;
  let tokens = 20;
  return (now) => {
    first ??= now;
    tokens = Math.min(20, tokens + ((now - (last ?? now)) / 1000) * rateAt(now - first));
    last = now;
    if (tokens < 1) return { admitted: false, headers: {} };
    tokens -= 1;
    return { admitted: true, headers: {} };
  };
}

/** 240 calls at `width`, 100-800 ms, transit 1-41 ms each way, no 5xx. */
function drive(enter: (now: number) => GateAnswer, width: number, seed: number): Promise<DriveRun> {
  return driveFlow({
    calls: 240,
    width,
    seed,
    latencyMs: [100, 800],
    transitMs: [1, 41],
    failEvery: 0,
    enter,
  });
}

function refusedAfterDrop(run: DriveRun) {
  return run.refusals.filter((r) => r.atMs > DROP_MS).length;
}

function takenRate(run: DriveRun, from: number, to: number): number {
  return run.admittedAt.filter((at) => at >= from && at < to).length / ((to - from) / 1000);
}

describe('a token bucket falling from 20/s to 6/s at 8 s, 240 calls', () => {
  it('bare 429: at the new rate within a handful of refusals (c10, c20 ×2 seeds, c50), and kept there', async () => {
    const afterDrop: number[] = [];
    for (const [width, seed] of [
      [10, 7],
      [20, 7],
      [20, 11],
      [50, 7],
    ] as const) {
      const run = await drive(fallingBucket(), width, seed);
      expect(run.accepted).toBe(240);
      afterDrop.push(refusedAfterDrop(run));
      // Used at the new rate once found (the calls run out at about 19 s).
      expect(takenRate(run, 11_000, 16_000)).toBeGreaterThanOrEqual(0.8 * 6);
    }
    // Before: 8, 11, 9, 10 (one cut of β per round, from the last two seconds' take).
    for (const n of afterDrop) expect(n).toBeLessThanOrEqual(8);
    expect(afterDrop.reduce((a, b) => a + b)).toBeLessThanOrEqual(28);
  });

  it.each([
    [10, 7],
    [20, 11],
  ])('c%i (seed %i), Retry-After: 1 on each 429: no worse', async (width, seed) => {
    const run = await drive(changingBucket(rateAt), width, seed);
    expect(run.accepted).toBe(240);
    expect(refusedAfterDrop(run)).toBeLessThanOrEqual(5);
    expect(takenRate(run, 11_000, 16_000)).toBeGreaterThanOrEqual(0.85 * 6);
  });
});
