/**
 * An outage of bare 503s in the middle of a run, on vitest's fake clock: 100 images, 20 at
 * a time, each call through callWithPolicy with the provider's real breaker (default
 * probes) and adaptive flow, as the pipeline composes them. A call the open breaker holds
 * waits for it without spending an attempt, within the image's --max-retry-wait budget
 * (trial 10g of issue 10: refused at once, each refusal cost one of 5 attempts; 15 s
 * outage: 5 of 100 images lost, 40 s: 10). An outage longer than the budget fails the
 * images promptly with CIRCUIT_OPEN naming it; a short one is probed back within seconds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { callWithPolicy } from '../../src/flow/call-policy.js';
import { ProviderBreaker } from '../../src/flow/circuit-breaker.js';
import { attemptsOf } from '../../src/flow/retry.js';
import type { ThrottleTally } from '../../src/flow/throttle.js';
import { runCallsOnFakeClock } from '../support/flow-drive.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Ended {
  ok: boolean;
  attempts: number | undefined;
  tally: ThrottleTally;
  error?: VisionpipeError;
  /** ms since the start. */
  at: number;
}

/** 100 images through an outage of `outageMs` from `from` ms on (bare 503s in 20 ms; else answers in 1 s). */
async function outageRun(outageMs: number, budgetMs = 120_000, from = 2000) {
  const start = Date.now();
  const flow = new AdaptiveFlow({ maxConcurrency: 1024, now: () => Date.now() });
  const breaker = new ProviderBreaker(`outage-${outageMs}-${budgetMs}`);
  let probes = 0;
  breaker.onStateChange(({ state }) => {
    if (state === 'half-open') probes++;
  });
  const until = from + outageMs;
  const sends: Array<{ at: number; ok: boolean; state: string }> = [];
  const provider = async () => {
    const at = Date.now() - start;
    const down = at >= from && at < until;
    sends.push({ at, ok: !down, state: breaker.state });
    if (down) {
      await sleep(20);
      throw new VisionpipeError('PROVIDER_UNAVAILABLE', 'HTTP 503: Service Unavailable', { status: 503 });
    }
    await sleep(1000);
    return { ok: true };
  };
  const ended: Ended[] = [];
  const steps = (Math.min(outageMs, 10 * budgetMs) + budgetMs + 120_000) / 5;
  await runCallsOnFakeClock(
    100,
    20,
    async () => {
      const tally: ThrottleTally = { count: 0, waitMs: 0 };
      try {
        const r = await callWithPolicy(provider, {
          flow,
          breaker,
          tally,
          retry: { maxTotalWaitMs: budgetMs },
        });
        ended.push({ ok: true, attempts: r.attempts, tally, at: Date.now() - start });
      } catch (error) {
        ended.push({
          ok: false,
          attempts: attemptsOf(error),
          tally,
          error: error as VisionpipeError,
          at: Date.now() - start,
        });
      }
    },
    steps,
  );
  flow.close();
  const firstBack = sends.find((s) => s.ok && s.at >= until)?.at;
  return {
    ended,
    sends,
    /** How long the provider was back before the first call reached it (ms). */
    idleMs: firstBack === undefined ? undefined : firstBack - until,
    outageSends: sends.filter((s) => !s.ok).length,
    probes,
  };
}

describe('a call the open breaker holds', () => {
  it('40 s outage: no image lost; the held waits are in the budget, not attempts', async () => {
    const run = await outageRun(40_000);
    expect(run.ended).toHaveLength(100);
    expect(run.ended.filter((e) => !e.ok).map((e) => e.error?.message)).toEqual([]);
    // Waits counted against --max-retry-wait, never past it.
    const held = run.ended.filter((e) => (e.tally.outageMs ?? 0) > 0);
    expect(held.length).toBeGreaterThanOrEqual(15);
    for (const e of run.ended) expect(e.tally.waitMs).toBeLessThanOrEqual(120_000);
    // Every send is an attempt or a refusal read as a cap (rate_limited): the breaker's holds are neither.
    const counted = run.ended.reduce((n, e) => n + (e.attempts ?? 0) + e.tally.count, 0);
    expect(counted).toBe(run.sends.length);
    // Nothing goes through the open circuit, not even the calls the flow held when it opened.
    expect(run.sends.filter((s) => s.state === 'open')).toEqual([]);
    // A probe is one send: its bare 503 is the outage's answer, not a cap to resend into.
    expect(run.probes).toBeGreaterThan(0);
    expect(run.sends.filter((s) => s.state === 'half-open')).toHaveLength(run.probes);
    // The breaker holds the calls: a 40 s outage costs the first failures and a few probes, not a storm.
    expect(run.outageSends).toBeLessThan(70);
  });

  it('15 s outage: no image lost', async () => {
    const run = await outageRun(15_000);
    expect(run.ended.filter((e) => !e.ok).map((e) => e.error?.message)).toEqual([]);
  });

  // Where in the outage the breaker opens moves with when it began against the calls in flight.
  // The idle time is at most the gap between the probes around the recovery: 6 s (4 × 1.5)
  // wherever the breaker opened, plus the probe's admission; doubling's 8 s gap left 7.2-8 s.
  it.each([1200, 2000, 2700])(
    '10 s outage from %i ms: the first call after the server is back goes within the 6 s probe gap',
    async (from) => {
      const run = await outageRun(10_000, 120_000, from);
      expect(run.ended.filter((e) => !e.ok)).toEqual([]);
      expect(run.idleMs).toBeDefined();
      expect(run.idleMs!).toBeLessThan(6500);
    },
  );

  it('an outage longer than --max-retry-wait fails the images promptly with CIRCUIT_OPEN naming it', async () => {
    const budgetMs = 60_000;
    const run = await outageRun(Number.POSITIVE_INFINITY, budgetMs);
    expect(run.ended).toHaveLength(100);
    const after = run.ended.filter((e) => e.at > 2000);
    expect(after.length).toBeGreaterThanOrEqual(50);
    expect(after.filter((e) => e.ok)).toEqual([]);
    const open = run.ended.filter((e) => e.error?.code === 'CIRCUIT_OPEN');
    // The images in flight when it began may spend their attempts on its first 503s; the rest were held.
    expect(open.length).toBeGreaterThanOrEqual(after.length - 20);
    for (const e of open) {
      expect(e.error?.retryable).toBe(false);
      expect(e.error?.message).toMatch(
        /down: an outage, the circuit breaker open for [\d.]+ s \(last failure: HTTP 503/,
      );
      expect(e.error?.message).toMatch(/waited [\d.]+ s for it/);
      expect(e.tally.waitMs).toBeLessThanOrEqual(budgetMs);
    }
    // Promptly: once the outage has outlasted one budget, later images fail unsent at once,
    // rather than each wave of 20 holding its own budget in turn (4 waves: over 150 s).
    const last = Math.max(...run.ended.map((e) => e.at));
    expect(last).toBeLessThan(2000 + 2 * budgetMs + 10_000);
  });
});
