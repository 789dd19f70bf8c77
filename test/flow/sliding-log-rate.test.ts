/**
 * A sliding log's rate, reached (issue 10, sliding-log cells c10/c20/c50): once the log's
 * window is learned from what the answers' budgets count (src/flow/log-window.ts), the
 * emulated log paces the flow, not the rate a refusal set before (8.6/s on a 10/s log,
 * the whole run), and the window is learned in the first seconds: bounds are taken only
 * from sends whose fate the server knew (no refusal still on its way back, none so recent
 * it may have arrived after the answered call), so a start-up burst taken out of order no
 * longer bounds the window at 0 ms.
 *
 * Deterministic: a fake clock drives the flow and the simulator's real sliding-log gate
 * (src/simulator/zoo.ts, IETF RateLimit headers in whole seconds), read by the real
 * parsers; each request and answer takes 1-21 ms or 1-60 ms on its way (seeded), so calls
 * reach the server out of send order, as over loopback HTTP on a busy machine. The
 * fractions are model figures, not timings. Before → after (fraction of the log's rate):
 *
 * | log          | transit | c10         | c20         | c50         |
 * |--------------|---------|-------------|-------------|-------------|
 * | 50 per 2 s   | 1-21 ms | 0.921→0.923 | 0.910→0.939 | 0.927→0.950 |
 * | 50 per 2 s   | 1-60 ms | 0.850→0.927 | 0.872→0.908 | 0.894→0.936 |
 * | 25 per 2 s   | 1-21 ms | 0.950→0.945 | 0.952→0.959 | 0.952→0.959 |
 * | 25 per 2 s   | 1-60 ms | 0.928→0.951 | 0.952→0.967 | 0.952→0.967 |
 * | 10 per 1 s   | 1-21 ms | 0.850→0.954 | 0.850→0.954 | 0.850→0.954 |
 * | 10 per 1 s   | 1-60 ms | 0.786→0.921 | 0.786→0.921 | 0.786→0.921 |
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGate } from '../../src/simulator/zoo.js';
import { driveFlow } from '../support/flow-drive.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

/** [calls per second, window ms]: 50 per 2 s (the bench's server), 25 per 2 s, 10 per 1 s. */
const LOGS: ReadonlyArray<readonly [number, number]> = [
  [25, 2000],
  [12.5, 2000],
  [10, 1000],
];
const TRANSITS: ReadonlyArray<readonly [number, number]> = [
  [1, 21],
  [1, 60],
];
const WIDTHS = [10, 20, 50];

const cases = LOGS.flatMap(([rps, windowMs]) =>
  TRANSITS.flatMap((transitMs) =>
    WIDTHS.map((width) => ({
      name: `${(rps * windowMs) / 1000} per ${windowMs / 1000} s, transit ${transitMs.join('-')} ms, c${width}`,
      rps,
      windowMs,
      transitMs,
      width,
    })),
  ),
);

describe('sliding log: the flow reaches the log’s rate', () => {
  it.each(cases)('$name: 300 calls at 0.9 of the log’s rate or more, under 5 % refused', async (c) => {
    const gate = createGate({ shape: 'sliding-log', rps: c.rps, windowMs: c.windowMs });
    const run = await driveFlow({
      calls: 300,
      width: c.width,
      enter: (now) => gate.enter(now),
      transitMs: c.transitMs,
    });
    expect(run.accepted).toBe(300);
    // Accepted calls (5xx included: the gate took them) over the log's rate × the time taken.
    const fraction = run.admitted / ((gate.ceilingRps! * run.wallMs) / 1000);
    expect(fraction).toBeGreaterThanOrEqual(0.9);
    expect(run.refused).toBeLessThan(0.05 * (run.admitted + run.refused));
    // The window emulated is the log's, within the margin (never shorter: it would refuse).
    expect(run.flow.state.logWindowMs).toBeGreaterThanOrEqual(c.windowMs);
    expect(run.flow.state.logWindowMs).toBeLessThan(c.windowMs * 1.1);
  });
});
