/**
 * A cap that counts a call until its body is sent (issue 10 trial, finding 4): a per-IP cap
 * of 2 whose answers' headers come after 100-300 ms and whose bodies then take 600 ms. The
 * flow frees a success's slot at its headers (what most caps count), so a third call went
 * while two bodies were still streaming: refused, and the refusals, sent within the calls in
 * flight successes had, read as a rate limit that paced the flow at 0.8 of what the cap
 * allows. Refusals sent with more calls open (bodies included) than successes ever had
 * teach the flow to hold a slot until the body is read.
 *
 * Deterministic (test/support/flow-drive.ts: fake clock, seeded transit and latency).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { concurrencyCapGate, driveFlow } from '../support/flow-drive.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('a concurrency cap counted until the body is sent', () => {
  it.each([10, 20])('c%i: reaches 0.9 of what the cap allows', async (width) => {
    const run = await driveFlow({
      calls: 300,
      width,
      latencyMs: [100, 300],
      bodyMs: 600,
      failEvery: 0,
      enter: concurrencyCapGate(2),
    });
    expect(run.accepted).toBe(300);
    // 2 at a time, each held 200 ms (mean) + 600 ms + ~11 ms on its way: 2.47 calls/s.
    const ceiling = 2 / 0.811;
    expect(run.admitted / (run.wallMs / 1000)).toBeGreaterThanOrEqual(0.9 * ceiling);
    // The start-up burst (8 at once into a cap of 2) and one probe past the cap every 8
    // rounds are what is left.
    expect(run.refused).toBeLessThan(0.1 * (run.accepted + run.refused));
  });
});
