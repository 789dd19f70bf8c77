/**
 * The rate a sliding log's refusal sets (issue 10, c50 cells). A refusal the budget headers
 * explain paces the flow at what that budget let through: the `limit` calls before it over
 * the time from the first of them until the server takes calls again. An IETF server names
 * that time in whole seconds (`RateLimit-Reset`, `Retry-After`, rounded up), so it comes out
 * up to a second late: on a 2 s log of 50 calls the rate was set to 50 / 2.5 s = 20/s, 0.8 of
 * the ceiling, and the flow stayed under it until the log was learned (bench: sliding-log c50
 * 0.84 of the ceiling). The windows the answers bound place the next room more precisely.
 *
 * Deterministic: a fake clock drives the flow and the simulator's real sliding-log gate
 * (src/simulator/zoo.ts, 25/s over 2 s), its headers read by the real parsers; each request
 * and answer takes 1-21 ms on its way (seeded), so the server admits calls a little out of
 * send order, as over loopback HTTP on a busy machine.
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

/** `width` workers make `calls` successful calls through the flow against the gate, on the fake clock. */
async function drive(calls: number, width: number) {
  const gate = createGate({ shape: 'sliding-log', rps: RPS, windowMs: 2000 });
  const run = await driveFlow({ calls, width, enter: (now) => gate.enter(now) });
  // Accepted calls (5xx included: the gate took them) over the ceiling × the time taken.
  return { ...run, fraction: run.admitted / ((RPS * run.wallMs) / 1000) };
}

describe('sliding log with whole-second resets', () => {
  it.each([20, 50])(
    'c%i: a refusal after the start-up burst does not pace the flow below the log’s rate',
    async (width) => {
      const run = await drive(300, width);
      expect(run.accepted).toBe(300);
      // After the first window (the start-up burst's refusals, nothing learned yet), a
      // refusal leaves the rate at the log's 25/s or above (the log's hold paces from
      // there). Before: 20/s at 4.1 s (c50) and 4.5 s (c20), from a reset rounded up to 1 s.
      const later = run.refusals.filter((r) => r.atMs > 2000 && Number.isFinite(r.rate));
      for (const refusal of later) expect(refusal.rate).toBeGreaterThanOrEqual(0.9 * RPS);
      expect(run.refused).toBeLessThan(0.05 * (run.accepted + run.refused));
    },
  );

  it('c50: 300 calls at 0.9 of the ceiling or more (0.88 before: paced at 20/s from 4 s on)', async () => {
    const run = await drive(300, 50);
    expect(run.fraction).toBeGreaterThanOrEqual(0.9);
  });
});
