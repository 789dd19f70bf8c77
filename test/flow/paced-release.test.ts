/**
 * After a pause, while no rate is learned, the calls it held go out paced at the rate the
 * server was seen to take, and that pace doubles each second (flow/paced-release.ts): the
 * calls in flight rise to the concurrency limit a call or two at a time, not in one burst
 * at the end of a paced second. A 25/s token bucket answering bare 429s, 50 at a time, its
 * requests 20-60 ms each way (as loopback HTTP on a loaded machine): paced for one second
 * and then unpaced, 12 calls went out at that second's end and all 12 were refused (26 of
 * 332 requests, 7.8 %); ramped, 10 of 316.
 *
 * Deterministic (test/support/flow-drive.ts: fake clock, seeded transit and latency).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PacedRelease } from '../../src/flow/paced-release.js';
import { bareBucket, driveFlow } from '../support/flow-drive.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('PacedRelease', () => {
  it('sends what the pause refilled at once, then at the rate seen, doubling each second, then unpaced', () => {
    const release = new PacedRelease();
    expect(release.gapMs(0)).toBe(0); // no pause yet: unpaced
    // Paused 100 ms at 20/s: 2 calls' worth refilled.
    release.start(1000, 1100, 20);
    expect([release.gapMs(1100), release.gapMs(1100)]).toEqual([0, 0]);
    expect(release.gapMs(1100)).toBeCloseTo(50);
    expect(release.gapMs(2100)).toBeCloseTo(25);
    expect(release.gapMs(3100)).toBeCloseTo(12.5);
    expect(release.gapMs(4100)).toBe(0);
  });
});

describe('a bare 25/s token bucket, 50 at a time, 20-60 ms each way', () => {
  it.each([3, 7, 11])('seed %i: no refused burst once the first pause is over', async (seed) => {
    const run = await driveFlow({
      calls: 306,
      width: 50,
      seed,
      transitMs: [20, 60],
      enter: bareBucket(25),
    });
    expect(run.accepted).toBe(306);
    // Slow start's overshoot is the first second's; after it, refusals come one or two at
    // a time (paced for a second, then unpaced: 12 within 50 ms at 1.9 s, seed 11).
    const later = run.refusals.filter((r) => r.atMs > 1000).map((r) => r.atMs);
    const inAnyTenth = Math.max(0, ...later.map((at) => later.filter((t) => t >= at && t < at + 100).length));
    expect(inAnyTenth).toBeLessThanOrEqual(2);
    expect(run.refused / (run.refused + run.admitted)).toBeLessThan(0.05);
    // 306 calls at 25/s, the first 25 at once: 11.2 s at the ceiling.
    expect(run.admittedAt.length / (25 * (run.wallMs / 1000))).toBeGreaterThanOrEqual(0.9);
  });
});
