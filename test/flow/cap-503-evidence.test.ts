/**
 * A bare 503 (no Retry-After, no busy words: nginx's `limit_conn` page) is a cap or an
 * outage by evidence (trial of issue 10: a proxy over 3 in flight, read as an outage, lost
 * 31 of 150 images and opened the breaker in 4 s). `FlowSlot.overCap()` reads a cap when a
 * success came shortly before and the refused call went out with more in flight than
 * recent successes had; a 503 with no success around it stays an outage; random 503s on a
 * healthy server (5 %, whatever the load) are mostly outages and do not drag the calls in
 * flight down. Deterministic: the flow on a fake clock, the refusal read as call-policy does.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { runCallsOnFakeClock, seededRandom } from '../support/flow-drive.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Run {
  ok: number;
  /** Refusals read as a cap (throttles) and as an outage (failures). */
  readAsCap: number;
  readAsOutage: number;
  /** Refusals read as an outage once a success had come. */
  outageAfterOk: number;
  wallMs: number;
  flow: AdaptiveFlow;
}

/**
 * `width` workers make `calls` successful calls; `refuse(inFlightOnServer)` says whether
 * the server answers a bare 503 at once; accepted calls take 100-1000 ms.
 */
async function drive(
  width: number,
  calls: number,
  refuse: (onServer: number) => boolean,
  read = true,
): Promise<Run> {
  const flow = new AdaptiveFlow({ maxConcurrency: width, now: () => Date.now() });
  const random = seededRandom(11);
  const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const start = Date.now();
  const run = { ok: 0, readAsCap: 0, readAsOutage: 0, outageAfterOk: 0 };
  let onServer = 0;
  const call = async () => {
    for (;;) {
      const slot = await flow.admit();
      slot.started();
      await delay(1 + Math.floor(random() * 10));
      if (refuse(onServer + 1)) {
        slot.answered(503);
        await delay(1 + Math.floor(random() * 10));
        // What call-policy does with a bare 503 (isBare503): overCap → a throttle, else a failure.
        if (read && slot.overCap()) {
          run.readAsCap++;
          slot.done({ kind: 'throttled' });
        } else {
          run.readAsOutage++;
          if (run.ok > 0) run.outageAfterOk++;
          slot.done({ kind: 'failed' });
          await delay(200); // the retry's backoff
        }
        continue;
      }
      onServer++;
      await delay(100 + Math.floor(random() * 900));
      onServer--;
      slot.answered(200);
      await delay(1 + Math.floor(random() * 10));
      run.ok++;
      slot.done({ kind: 'ok' });
      return;
    }
  };
  try {
    await runCallsOnFakeClock(calls, width, call, 200_000);
  } finally {
    flow.close();
  }
  return { ...run, wallMs: Date.now() - start, flow };
}

describe('a bare 503 read by evidence', () => {
  it('over a cap of 3 in flight: a cap, the calls in flight cut to it, few refusals', async () => {
    const run = await drive(20, 150, (onServer) => onServer > 3);
    expect(run.ok).toBe(150);
    // Before the first success nothing tells a cap from an outage; after it, two refusals
    // above what successes had make the cap: far fewer than the breaker's streak of 10.
    expect(run.outageAfterOk).toBeLessThanOrEqual(8);
    expect(run.readAsCap).toBeGreaterThan(0);
    expect(run.flow.state.concurrency).toBeLessThanOrEqual(4);
    // At 3 in flight and 0.55 s a call, 150 calls take 27.5 s at the ceiling.
    expect(run.wallMs).toBeLessThan(27_500 / 0.9);
  });

  it('5 % random 503s on a healthy server, whatever the load: mostly outages, the calls in flight stay up', async () => {
    const random = seededRandom(5);
    const run = await drive(20, 400, () => random() < 0.05);
    const healthy = await drive(20, 400, () => false);

    expect(run.ok).toBe(400);
    expect(run.readAsCap).toBeLessThanOrEqual(run.readAsOutage / 2);
    expect(run.flow.state.concurrency).toBeGreaterThanOrEqual(16);
    expect(run.wallMs).toBeLessThan(healthy.wallMs * 1.25);
  });

  it('with no success around it: an outage', async () => {
    const flow = new AdaptiveFlow({ maxConcurrency: 8, now: () => Date.now() });
    const out = await Promise.all(Array.from({ length: 4 }, () => flow.admit()));
    for (const slot of out) expect(slot.overCap()).toBe(false);
    for (const slot of out) slot.done({ kind: 'failed' });
    // A success alone, then six out: two refused above it are a cap; one may be chance.
    const first = await flow.admit();
    first.done({ kind: 'ok' });
    const again = await Promise.all(Array.from({ length: 6 }, () => flow.admit()));
    expect(again[5]?.overCap()).toBe(false);
    expect(again[4]?.overCap()).toBe(true);
    // Six seconds with no success: the evidence is stale, an outage again.
    await vi.advanceTimersByTimeAsync(6000);
    expect(again[3]?.overCap()).toBe(false);
    for (const slot of again) slot.done({ kind: 'failed' });
    flow.close();
  });
});
