/**
 * Flow control against the limiter zoo (issue 10): the real pipeline and the real OpenAI
 * provider against zoo servers on 127.0.0.1 whose limit nobody told visionpipe. Every
 * valid image succeeds, rate-limit refusals never spend error attempts and are counted in
 * `rate_limited`, a quota 429 fails at once, the wait budget ends a rate limit that never
 * lifts, and what the flow learned matches the server.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCache } from '../../src/cache/open-cache.js';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { createLimiter } from '../../src/flow/create-limiter.js';
import { mapWindow } from '../../src/flow/window.js';
import { createPipeline, type PipelineOptions } from '../../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import {
  type AdmissionEvent,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
  type ZooOptions,
} from '../../src/simulator/index.js';
import { invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

let images: Buffer[];
const running: Simulator[] = [];

beforeAll(async () => {
  images = await Promise.all(
    Array.from({ length: 48 }, (_, i) =>
      solidJpeg(64 + i, 64, `#${(0x102030 + i * 4099).toString(16).slice(-6)}`),
    ),
  );
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
  await closeAllAgents();
});

interface Run {
  records: RunRecord[];
  events: AdmissionEvent[];
  flow: AdaptiveFlow;
  sim: Simulator;
}

async function runAgainst(
  limiter: ZooOptions,
  options: {
    sim?: SimulatorOptions;
    concurrency?: number;
    count?: number;
    pipeline?: Partial<PipelineOptions>;
  } = {},
): Promise<Run> {
  const events: AdmissionEvent[] = [];
  const sim = await startSimulator({
    answer: 'empty',
    latency: { minMs: 20, maxMs: 80 },
    limiter,
    onAdmission: (event) => events.push(event),
    ...options.sim,
  });
  running.push(sim);
  const provider = new OpenAIProvider({ apiKey: 'sk-zoo', baseUrl: sim.baseUrls.openai });
  const cache = await openCache({ spec: 'off' });
  let flow: AdaptiveFlow | undefined;
  const pipeline = await createPipeline({
    pattern: invoicePattern,
    provider,
    model: 'gpt-4o-mini',
    cache,
    breaker: false,
    flow: () => {
      flow = new AdaptiveFlow({ maxConcurrency: options.concurrency ?? 20 });
      return flow;
    },
    ...options.pipeline,
  });
  const records: RunRecord[] = [];
  const list = images.slice(0, options.count ?? images.length);
  for await (const record of mapWindow(list, options.concurrency ?? 20, (data, i) =>
    pipeline.process(data, { label: `image-${i}.jpg` }),
  ))
    records.push(record);
  await pipeline.close();
  await cache.close();
  await provider.close();
  return { records, events, flow: flow!, sim };
}

function refusedShare(events: AdmissionEvent[]): number {
  return events.filter((e) => !e.admitted).length / events.length;
}

function expectAllOk(run: Run): void {
  const failed = run.records.filter((r) => r.status !== 'ok');
  expect(failed.map((r) => `${r.input}: ${r.error?.code} ${r.error?.message}`)).toEqual([]);
  // Refusals are counted apart: the records add up to what the server refused.
  const refused = run.events.filter((e) => !e.admitted).length;
  expect(run.records.reduce((sum, r) => sum + r.rate_limited.count, 0)).toBe(refused);
  // Without injected faults, every image took exactly one attempt however often it was refused.
  for (const record of run.records) expect(record.attempts).toBe(1);
}

describe('adaptive flow against the limiter zoo', () => {
  it('starts 8 calls at once before anything is learned (a token bucket starts full: its burst is not left unused)', async () => {
    const flow = new AdaptiveFlow({ maxConcurrency: 20 });
    expect(flow.state.concurrency).toBe(8);
    const slots = await Promise.all(Array.from({ length: 8 }, () => flow.admit()));
    let ninth = false;
    const next = flow.admit().then((slot) => {
      ninth = true;
      return slot;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(ninth).toBe(false);
    slots[0]!.done({ kind: 'ok' });
    (await next).done({ kind: 'ok' });
    for (const slot of slots.slice(1)) slot.done({ kind: 'ok' });
    expect(new AdaptiveFlow({ maxConcurrency: 3 }).state.concurrency).toBe(3);
    flow.close();
  });

  it('token-bucket with honest headers: paced from the budget they report, (almost) no 429s', async () => {
    const run = await runAgainst({ shape: 'token-bucket', rps: 40 });
    expectAllOk(run);
    expect(refusedShare(run.events)).toBeLessThan(0.1);
  });

  it('concurrency cap with bare 429s: learns to slow down, loses nothing', async () => {
    const run = await runAgainst({ shape: 'concurrency', maxInFlight: 5 });
    expectAllOk(run);
    // It slowed down: fewer calls in flight than the window (on a loaded machine, late
    // responses can make the rate the binding limit instead).
    expect(run.flow.state.concurrency < 20 || Number.isFinite(run.flow.state.rate)).toBe(true);
    expect(run.flow.state.concurrency).toBeGreaterThanOrEqual(3);
    expect(refusedShare(run.events)).toBeLessThan(0.25);
  });

  it('Anthropic-style 529 overloaded_error is a throttle, never an error attempt', async () => {
    const run = await runAgainst({ shape: 'concurrency-529', maxInFlight: 4 });
    expectAllOk(run);
    expect(run.records.some((r) => r.rate_limited.count > 0)).toBe(true);
  });

  it('Ollama-style 503 "server busy" when the queue is full: waits, learns, loses nothing', async () => {
    const run = await runAgainst({ shape: 'queue-503', maxInFlight: 3, queue: 2 });
    expectAllOk(run);
    // It learned: the busy answers were throttles, and most calls were not refused (a
    // window of 20 against room for 5 refuses about three in four without learning). The
    // end state (concurrency, rate) is not asserted: once the server keeps up, growth may
    // have taken it back up by the time the last call lands, on a loaded machine sooner.
    expect(run.flow.state.throttles).toBeGreaterThan(0);
    expect(refusedShare(run.events)).toBeLessThan(0.25);
  });

  it('no headers at all: the rate is learned from 429s alone', async () => {
    const run = await runAgainst({ shape: 'no-headers', rps: 10 });
    expectAllOk(run);
    expect(run.flow.state.throttles).toBeGreaterThan(0);
    expect(run.flow.state.rate).toBeLessThan(200);
    // A storm refuses most calls (55 % in issue 10's trial); a learned rate far fewer. The bound
    // leaves room for a loaded machine, where slow start overshoots a little more.
    expect(refusedShare(run.events)).toBeLessThan(0.4);
  });

  it('lying headers: caught (remaining above the limit) and ignored', async () => {
    const run = await runAgainst({ shape: 'lying-headers', rps: 30 });
    expectAllOk(run);
    expect(run.flow.state.headersTrusted).toBe(false);
  });

  it('honest headers are kept', async () => {
    const run = await runAgainst({ shape: 'token-bucket', rps: 30 }, { count: 16 });
    expect(run.flow.state.headersTrusted).toBe(true);
  });

  it.each([
    ['retry-after-date', { shape: 'retry-after-date', rps: 30 }],
    ['retry-info', { shape: 'retry-info', rps: 30 }],
    ['sliding-log', { shape: 'sliding-log', rps: 30, windowMs: 1000 }],
  ] as const)('%s: every valid image succeeds', async (_name, limiter) => {
    expectAllOk(await runAgainst(limiter));
  });

  it('sliding log: the exhausted budget sets a pace (no burst at the window edge)', async () => {
    const run = await runAgainst({ shape: 'sliding-log', rps: 30, windowMs: 1000 }, { count: 48 });
    expectAllOk(run);
    // The pace may come from a learned rate or from the emulated log (the rate then stays
    // unbounded and no 429 is ever met): either way the window edge brings no storm.
    expect(refusedShare(run.events)).toBeLessThan(0.25);
    if (Number.isFinite(run.flow.state.rate)) expect(run.flow.state.rate).toBeLessThan(200);
  });

  // Retried on a loaded machine: with 20–80 ms answers, an event-loop stall of a few hundred ms
  // makes answers already freed on the server still count as in flight here, and one throttle
  // then looks like a rate event (CI at stop 24: rate 17/s). The classification itself is
  // proven deterministically, on a fake clock, in cap-or-rate.test.ts.
  it('concurrency cap: the refusals of one burst are one event (no rate cut, cap near the limit)', {
    retry: 2,
  }, async () => {
    const run = await runAgainst({ shape: 'concurrency', maxInFlight: 5 }, { count: 48, concurrency: 20 });
    expectAllOk(run);
    // Before: the burst's echoes were taken as rate events and paced a server that
    // limits only calls in flight.
    expect(run.flow.state.rate).toBe(Number.POSITIVE_INFINITY);
    expect(run.flow.state.concurrency).toBeGreaterThanOrEqual(4);
    expect(run.flow.state.concurrency).toBeLessThanOrEqual(7);
  });

  // Issue 10's new-user trial: nginx `limit_req` 12/s with no burst (bare 429s, refusals not
  // counted), read as a concurrency cap: the calls in flight cut to 2-4, 0.17 of its rate, and
  // with --rpm 700 (the limiter's one-second burst) no better. Figures: the fake-clock model
  // (strict-spacing.test.ts) and bench/flow.ts; here, behaviour only.
  it.each([
    ['no limit given', () => ({})],
    ['--rpm 700', () => ({ limiter: createLimiter('memory', { rpm: 700 }) })],
  ])(
    'leaky bucket 12/s, no burst, %s: learned as a strict spacing, calls in flight not cut',
    // Retried on a loaded machine: calls sent together may reach the server far enough apart
    // to be taken, more often than a strict server shows (see spacing.ts CLOSE_PAIRS).
    { retry: 2 },
    async (_name, pipeline) => {
      const run = await runAgainst({ shape: 'leaky-bucket', rps: 12 }, { count: 48, pipeline: pipeline() });
      expectAllOk(run);
      // Slow start's first calls went together, and all but one were refused.
      expect(refusedShare(run.events)).toBeGreaterThan(0);
      expect(run.flow.state.strictSpacing).toBe(true);
      expect(run.flow.state.concurrency).toBe(20);
      expect(Number.isFinite(run.flow.state.rate)).toBe(true);
    },
  );

  // Retried on a loaded machine: a 600 ms window is short beside a fork's scheduling delays.
  it('fixed-window with OpenAI headers: learns the budget comes back all at once', { retry: 2 }, async () => {
    const run = await runAgainst({ shape: 'fixed-window', rps: 30, windowMs: 600 });
    expectAllOk(run);
    expect(run.flow.state.windowed).toBe(true);
    expect(refusedShare(run.events)).toBeLessThan(0.2);
  });

  it('5xx and resets spend attempts; 429s do not; every image still succeeds', async () => {
    const run = await runAgainst(
      { shape: 'no-headers', rps: 30 },
      { sim: { faults: { rate5xx: 0.1, rateReset: 0.05 }, seed: 3 } },
    );
    expect(run.records.filter((r) => r.status !== 'ok')).toEqual([]);
    const extra = run.records.reduce((sum, r) => sum + r.attempts - 1, 0);
    // (A reset of a reused keep-alive socket may be retried by the HTTP client itself.)
    expect(extra).toBeGreaterThanOrEqual(run.sim.stats.faults['5xx']);
    expect(extra).toBeLessThanOrEqual(run.sim.stats.faults['5xx'] + run.sim.stats.faults.reset);
  });

  it('a rate limit that never lifts ends at the wait budget as RATE_LIMITED, no attempt counted (a refusal is not one)', async () => {
    // One call per 20 s (never a whole token: nothing gets through) and a budget of 300 ms.
    const run = await runAgainst(
      { shape: 'token-bucket', rps: 0.05 },
      { count: 2, concurrency: 2, pipeline: { retry: { maxTotalWaitMs: 300 } } },
    );
    expect(run.records.every((r) => r.status === 'error')).toBe(true);
    const failed = run.records[0]!;
    expect(failed.error?.code).toBe('RATE_LIMITED');
    expect(failed.error?.message).toMatch(/max-retry-wait/);
    // Every call was refused: refusals are counted in rate_limited, never in attempts.
    expect(failed.attempts).toBe(0);
    expect(failed.rate_limited.count).toBeGreaterThanOrEqual(1);
    // It did not sit out the 20 s the server named: the budget said no before waiting.
    expect(failed.latency_ms).toBeLessThan(5000);
  });

  it('a quota 429 (insufficient_quota) is not a rate limit: it fails at once, no waiting', async () => {
    const run = await runAgainst(
      { shape: 'token-bucket', rps: 100 },
      { count: 3, sim: { quotaExceeded: true } },
    );
    for (const record of run.records) {
      expect(record.error?.code).toBe('QUOTA_EXCEEDED');
      expect(record.rate_limited).toEqual({ count: 0, wait_ms: 0 });
      expect(record.attempts).toBe(1);
    }
  });

  it('without a flow, a storm spends the attempts (what the flow prevents)', async () => {
    const run = await runAgainst(
      { shape: 'concurrency', maxInFlight: 2 },
      { pipeline: { flow: false, retry: { maxAttempts: 2, baseDelayMs: 1 } }, count: 24 },
    );
    expect(run.records.filter((r) => r.error?.code === 'RATE_LIMITED').length).toBeGreaterThan(0);
  });
});
