/**
 * The bench's sliding-log server (issue 10): 25 calls/s over 2 s (50 in any 2 s), IETF
 * RateLimit headers, 100-500 ms calls. The target is 0.9 of the ceiling with
 * under 5 % refused and every call done, at c10, c20 and c50, no limit given.
 *
 * Where the time goes (model, seed 7, wall 13.7-14.3 s against 12.9 s at the ceiling):
 * the first refusal after the start-up burst pauses until half a second before the
 * whole-second Retry-After, about 0.4 s after the log has room again; the rate that
 * refusal sets (limit over the time to that pause's end, 20-22/s) then paces until the
 * log is learned, and at c10 stays there (growth stops while the budget is nearly spent:
 * 23.3/s to the end); at c20/c50 each refusal the learned log did not foresee costs
 * 0.25-0.5 s and doubles the log's margin (2 s learned as 2.07-2.09 s).
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
  // Model figures on 7114957: c10 0.92, c20 0.90, c50 0.94 of the ceiling, 3-4 refused.
  // Seed 11 puts c20 at 0.89: the margin here is thin, the HTTP cells (0.84-0.90) thinner.
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
