/**
 * The bench's sliding-log server (issue 10): 25 calls/s over 2 s (50 in any 2 s), IETF
 * RateLimit headers, 100-500 ms calls. The target is 0.9 of the ceiling with
 * under 5 % refused and every call done, at c10, c20 and c50, no limit given.
 *
 * Where the time went (model, seed 7, before the log was placed by whole-second resets):
 * the first refusal after the start-up burst paused until half a second before the
 * whole-second Retry-After, about 0.4 s after the log had room again, and the rate that
 * refusal set then paced until the log was learned. Now each success's whole-second reset
 * places the oldest call's expiry (a ceiling on the window from the first answer on), so
 * the first refusal resumes when the log has room (model 0.95-0.97 at 1-21 ms each way).
 *
 * Over loopback HTTP calls reach the server 1-15 ms late at the median and up to 0.1-0.2 s
 * under load (a traced bench run: start of request to the server's admission, q99 40-110
 * ms), out of send order: the tightest bound was that stall short, the start-up burst's
 * overtaken calls bounded a 2 s log at 0.5 s, and a bunch of sends replayed one window later
 * met the log still holding their predecessors. The second block runs the same log with
 * calls 1-61 ms each way (before: 0.84-0.89 of the ceiling, up to 21 refused; HTTP 0.84-0.90).
 *
 * Deterministic: fake clock, the simulator's real sliding-log gate and headers read by the
 * real parsers, 1-21 ms each way, every 20th admitted call a 5xx (counted as taken).
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

const RPS = 25;

describe('sliding log of 25/s over 2 s, 300 valid + 6 invalid images', () => {
  it.each([10, 20, 50])(
    'c%i: at least 0.9 of the ceiling, under 5 percent refused, every call done',
    async (width) => {
      const gate = createGate({ shape: 'sliding-log', rps: RPS, windowMs: 2000 });
      const run = await driveFlow({ calls: 306, width, enter: (now) => gate.enter(now) });
      expect(run.accepted).toBe(306);
      expect(run.refused / (run.admitted + run.refused)).toBeLessThan(0.05);
      expect(run.admitted / ((RPS * run.wallMs) / 1000)).toBeGreaterThanOrEqual(0.9);
    },
  );
});

describe('the same log with calls 1-61 ms each way, out of order as over loopback HTTP', () => {
  // Model on this change: c10 0.93, c20 0.95, c50 0.94 (seed 11: 0.93, 0.94, 0.93).
  it.each([10, 20, 50])(
    'c%i: at least 0.9 of the ceiling, under 5 percent refused, every call done',
    async (width) => {
      const gate = createGate({ shape: 'sliding-log', rps: RPS, windowMs: 2000 });
      const run = await driveFlow({
        calls: 306,
        width,
        transitMs: [1, 61],
        enter: (now) => gate.enter(now),
      });
      expect(run.accepted).toBe(306);
      expect(run.refused / (run.admitted + run.refused)).toBeLessThan(0.05);
      expect(run.admitted / ((RPS * run.wallMs) / 1000)).toBeGreaterThanOrEqual(0.9);
    },
  );
});
