/**
 * A limit that rises mid-run is used (issue 10 trial, finding 2): a gateway allows 3 calls/s
 * for 6 s, then 20/s, answering refusals with a bare `Retry-After: 1`. Before: the flow had
 * cut its rate to ~3/s in the first phase and then only crept (3 % a second near the rate of
 * its last cut), and one call more in flight took 8 rounds at the limit: 3-6 successes a
 * second after the rise, 0.15-0.3 of the new ceiling, for the rest of a 30 s run.
 *
 * Deterministic (test/support/flow-drive.ts: fake clock, seeded transit and latency).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { changingBucket, driveFlow } from '../support/flow-drive.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

interface Case {
  name: string;
  calls: number;
  width: number;
  latencyMs: readonly [number, number];
  rateAt: (ms: number) => number;
  /** From when to when (ms since the start) the calls the server took are counted. */
  window: readonly [number, number];
  /** The least share of the limit then in force those calls must reach. */
  share: number;
  /** The most refusals may be of all requests. */
  refused: number;
}

const CASES: Case[] = [
  {
    // 4-10 s after the rise.
    name: 'rises from 3/s to 20/s: within 10 s of the rise the flow takes most of it',
    calls: 400,
    width: 10,
    latencyMs: [150, 500],
    rateAt: (ms) => (ms < 6000 ? 3 : 20),
    window: [10_000, 16_000],
    share: 0.7,
    refused: 0.05,
  },
  {
    // 20/s at 1.5 s a call needs 30 in flight: one more per 8 rounds of 1.5 s took minutes.
    name: 'rises from 3/s to 20/s with 1-2 s calls: slow start resumes once probes past the cap keep passing',
    calls: 700,
    width: 50,
    latencyMs: [1000, 2000],
    rateAt: (ms) => (ms < 6000 ? 3 : 20),
    window: [30_000, 36_000],
    share: 0.8,
    refused: 0.05,
  },
  {
    name: 'drops from 20/s to 5/s: the flow follows it down',
    calls: 200,
    width: 10,
    latencyMs: [150, 500],
    rateAt: (ms) => (ms < 4000 ? 20 : 5),
    window: [8000, 20_000],
    share: 0.85,
    refused: 0.1,
  },
];

describe('a rate limit that changes during the run', () => {
  it.each(CASES)('$name', async (c) => {
    const run = await driveFlow({
      calls: c.calls,
      width: c.width,
      latencyMs: c.latencyMs,
      failEvery: 0,
      enter: changingBucket(c.rateAt),
    });
    expect(run.accepted).toBe(c.calls);
    const [from, to] = c.window;
    const taken = run.admittedAt.filter((at) => at >= from && at < to).length;
    expect(taken / ((to - from) / 1000)).toBeGreaterThanOrEqual(c.share * c.rateAt(from));
    expect(run.refused).toBeLessThan(c.refused * (run.accepted + run.refused));
  });
});
