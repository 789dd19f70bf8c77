/**
 * A paced rate limit that rises mid-run is used (issue 10 trial 10b): a token bucket of 3
 * calls/s becomes 20/s at 10 s, answering refusals with a bare `Retry-After: 1`. By then the
 * flow has cut its rate to about 3/s; near the rate of that cut growth creeps (3 % a second),
 * and before it stayed a creep for good: 3.5-4.5 calls/s 6-10 s after the rise, 4.6-5.3/s
 * 10-20 s after it. After a 2 s plateau there with no throttle, growth accelerates again
 * (flow/rate-growth.ts), while a limit that stays put refuses the creep before the plateau
 * ends, so a steady bucket is refused no more often than before.
 *
 * Deterministic (test/support/flow-drive.ts: fake clock, seeded transit and latency).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { changingBucket, type DriveRun, driveFlow } from '../support/flow-drive.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

/** Calls per second the server took between `from` and `to` (ms since the start). */
function takenRate(run: DriveRun, from: number, to: number): number {
  return run.admittedAt.filter((at) => at >= from && at < to).length / ((to - from) / 1000);
}

function refusedShare(run: DriveRun): number {
  return run.refused / (run.accepted + run.refused);
}

describe('a paced rate that rises from 3/s to 20/s at 10 s', () => {
  it.each([
    [10, 7],
    [20, 7],
    [50, 7],
    [20, 11],
  ])('c%i (seed %i): used at 0.8 of the new rate within 10 s of the rise, and kept', async (width, seed) => {
    const run = await driveFlow({
      calls: 600,
      width,
      seed,
      latencyMs: [150, 500],
      failEvery: 0,
      enter: changingBucket((ms) => (ms < 10_000 ? 3 : 20)),
    });
    expect(run.accepted).toBe(600);
    // The last 3 s of the 10 s after the rise (a 2 s window could be the bucket's burst of 20).
    expect(takenRate(run, 17_000, 20_000)).toBeGreaterThanOrEqual(0.8 * 20);
    // And it stays there: the next 10 s.
    expect(takenRate(run, 20_000, 30_000)).toBeGreaterThanOrEqual(0.9 * 20);
    expect(refusedShare(run)).toBeLessThan(0.05);
  });
});

describe('a paced rate that stays put', () => {
  it.each([
    [8, 10],
    [8, 50],
    [20, 10],
    [20, 50],
  ])('%i/s at c%i for a minute: the plateau does not turn into a storm', async (rate, width) => {
    const run = await driveFlow({
      calls: 60 * rate,
      width,
      latencyMs: [150, 500],
      failEvery: 0,
      enter: changingBucket(() => rate),
    });
    expect(run.accepted).toBe(60 * rate);
    expect(run.admitted / (run.wallMs / 1000)).toBeGreaterThanOrEqual(0.95 * rate);
    expect(refusedShare(run)).toBeLessThan(0.05);
    // Past the start-up, a refusal every 5 s at most (the creep's, one per cut, as before the
    // plateau was added: 5-8 in these 40 s; accelerating with no plateau, 8-10).
    expect(run.refusals.filter((r) => r.atMs > 20_000).length).toBeLessThanOrEqual(8);
  });
});
