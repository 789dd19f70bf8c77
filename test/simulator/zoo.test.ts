/**
 * Every shape of the limiter zoo, through real HTTP to the simulator on 127.0.0.1: what
 * it admits, how it refuses (status, headers, body) and that its headers say what the
 * shape promises (or lie, for `lying-headers`).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/flow/retry-after.js';
import { readErrorBody } from '../../src/providers/http-errors.js';
import {
  createGate,
  LIMITER_SHAPES,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
  type ZooOptions,
} from '../../src/simulator/index.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

let body: string;
const running: Simulator[] = [];

beforeAll(async () => {
  const image = await solidJpeg(64, 64);
  body = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${image.toString('base64')}` } },
          { type: 'text', text: 'Read it.' },
        ],
      },
    ],
  });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function zoo(limiter: ZooOptions, extra: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator({ answer: 'empty', latency: { minMs: 0, maxMs: 0 }, limiter, ...extra });
  running.push(sim);
  return sim;
}

interface Answer {
  status: number;
  headers: Headers;
  json: unknown;
}

async function call(sim: Simulator): Promise<Answer> {
  const response = await fetch(`${sim.baseUrls.openai}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-zoo', 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: JSON.parse(text) as unknown };
}

/** `n` calls sent one after another (each finishes before the next). */
async function sequential(sim: Simulator, n: number): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let i = 0; i < n; i++) out.push(await call(sim));
  return out;
}

const statuses = (answers: Answer[]) => answers.map((a) => a.status);

// Each shape's behaviour depends on calls landing inside one window or burst; a loaded
// machine (CI runs forks beside each other) can spread seven sequential calls past it, so a
// test that meets that is run again (at most twice) rather than judged on the machine's load.
describe('limiter zoo', { retry: 2 }, () => {
  it('knows every shape and refuses unknown ones and bad numbers', () => {
    for (const shape of LIMITER_SHAPES) expect(createGate({ shape }).shape).toBe(shape);
    expect(() => createGate({ shape: 'leaky' as never })).toThrow(/limiter shape must be one of/);
    expect(() => createGate({ shape: 'token-bucket', rps: 0 })).toThrow(/rps must be a positive number/);
  });

  it('token-bucket: a one-second burst, then 429 with OpenAI headers and retry-after-ms', async () => {
    const sim = await zoo({ shape: 'token-bucket', rps: 5 });
    // Seven at once: they land within the burst however slowly this machine sends them one by one.
    const answers = await Promise.all(Array.from({ length: 7 }, () => call(sim)));
    expect(statuses(answers).filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused).toBeDefined();
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const wait = Number(refused.headers.get('retry-after-ms'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(200);
    expect(readErrorBody(refused.json).code).toBe('rate_limit_exceeded');
    // The first admitted call saw the full bucket less itself.
    const remaining = answers
      .filter((a) => a.status === 200)
      .map((a) => Number(a.headers.get('x-ratelimit-remaining-requests')));
    expect(Math.max(...remaining)).toBe(4);
    // After the named wait a call goes through again.
    await new Promise((resolve) => setTimeout(resolve, wait + 20));
    expect((await call(sim)).status).toBe(200);
  });

  it('fixed-window: the budget comes back only at the window end, which the reset header names', async () => {
    const sim = await zoo({ shape: 'fixed-window', rps: 4, windowMs: 1000 });
    const answers = await sequential(sim, 6);
    expect(statuses(answers)).toEqual([200, 200, 200, 200, 429, 429]);
    const refused = answers[4]!;
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('4');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('retry-after-ms')).toBeNull();
    const reset = refused.headers.get('x-ratelimit-reset-requests')!;
    expect(reset).toMatch(/^\d+ms$/);
    await new Promise((resolve) => setTimeout(resolve, Number.parseInt(reset, 10) + 20));
    expect(statuses(await sequential(sim, 5))).toEqual([200, 200, 200, 200, 429]);
  });

  it('sliding-log: IETF RateLimit-* headers; an admission counts for one window after it', async () => {
    const sim = await zoo({ shape: 'sliding-log', rps: 3, windowMs: 1000 });
    const answers = await sequential(sim, 4);
    expect(statuses(answers)).toEqual([200, 200, 200, 429]);
    expect(answers[0]!.headers.get('ratelimit-limit')).toBe('3');
    expect(answers[0]!.headers.get('ratelimit-remaining')).toBe('2');
    expect(answers[3]!.headers.get('ratelimit-remaining')).toBe('0');
    expect(answers[3]!.headers.get('retry-after')).toBe('1');
    expect(answers[3]!.headers.get('x-ratelimit-limit-requests')).toBeNull();
  });

  it.each([
    ['concurrency', 429],
    ['concurrency-529', 529],
  ] as const)(
    '%s: more than maxInFlight at once is refused with %i and no headers',
    async (shape, status) => {
      const sim = await zoo({ shape, maxInFlight: 3 }, { latency: { minMs: 150, maxMs: 150 } });
      const answers = await Promise.all(Array.from({ length: 5 }, () => call(sim)));
      expect(statuses(answers).filter((s) => s === 200)).toHaveLength(3);
      const refused = answers.filter((a) => a.status === status);
      expect(refused).toHaveLength(2);
      for (const answer of refused) {
        expect(answer.headers.get('retry-after')).toBeNull();
        expect([...answer.headers.keys()].filter((k) => k.includes('ratelimit'))).toEqual([]);
      }
      if (shape === 'concurrency-529')
        expect(readErrorBody(refused[0]!.json)).toMatchObject({ type: 'overloaded_error' });
      // Once they are done, the slots are free again.
      expect(statuses(await Promise.all(Array.from({ length: 3 }, () => call(sim))))).toEqual([
        200, 200, 200,
      ]);
    },
  );

  it('no-headers: a bare 429, nothing to go by', async () => {
    const sim = await zoo({ shape: 'no-headers', rps: 2 });
    const answers = await sequential(sim, 4);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused).toBeDefined();
    for (const answer of answers) {
      expect([...answer.headers.keys()].filter((k) => /ratelimit|retry-after/.test(k))).toEqual([]);
    }
  });

  it('leaky-bucket (nginx limit_req): calls 1/rps apart, refused ones not counted, `burst` more, a bare 429', async () => {
    const strict = createGate({ shape: 'leaky-bucket', rps: 10 });
    expect(strict.enter(0).admitted).toBe(true);
    expect(strict.enter(50).admitted).toBe(false);
    // The refusal at 50 ms did not count: 100 ms after the admission is room again.
    expect(strict.enter(100).admitted).toBe(true);
    expect(strict.enter(150)).toMatchObject({ admitted: false, headers: {} });
    const bursty = createGate({ shape: 'leaky-bucket', rps: 10, burst: 3 });
    expect([0, 1, 2, 3, 4].map((t) => bursty.enter(t).admitted)).toEqual([true, true, true, true, false]);
    const sim = await zoo({ shape: 'leaky-bucket', rps: 2 });
    const answers = await Promise.all(Array.from({ length: 3 }, () => call(sim)));
    expect(statuses(answers)).toContain(429);
    for (const answer of answers) {
      expect([...answer.headers.keys()].filter((k) => /ratelimit|retry-after/.test(k))).toEqual([]);
    }
  });

  it('retryAfterS: every refusal names that Retry-After instead of its own wait, over HTTP too', async () => {
    const over = createGate({ shape: 'leaky-bucket', rps: 8, burst: 2, retryAfterS: 30 });
    const verdicts = Array.from({ length: 4 }, () => over.enter(1000));
    expect(verdicts.map((v) => v.admitted)).toEqual([true, true, true, false]);
    expect(verdicts[3]!.headers).toEqual({ 'retry-after': '30' });
    // The true wait (a token bucket's retry-after-ms) is dropped, not left beside the lie.
    const under = createGate({ shape: 'token-bucket', rps: 2, retryAfterS: 1 });
    under.enter(0);
    under.enter(0);
    const refused = under.enter(0);
    expect(refused.admitted).toBe(false);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['retry-after-ms']).toBeUndefined();
    expect(() => createGate({ shape: 'fixed-window', retryAfterS: 0.5 })).toThrow(/retryAfterS/);
    const sim = await zoo({ shape: 'fixed-window', rps: 2, windowMs: 4000, retryAfterS: 1 });
    const answers = await sequential(sim, 9);
    const refusal = answers.find((a) => a.status === 429)!;
    expect(refusal).toBeDefined();
    expect(refusal.headers.get('retry-after')).toBe('1');
    expect(refusal.headers.get('x-ratelimit-limit-requests')).toBe('8');
  });

  it('lying-headers: remaining above the limit, reset 0, and a 429 that says retry at once', async () => {
    const sim = await zoo({ shape: 'lying-headers', rps: 2 });
    const answers = await sequential(sim, 4);
    for (const answer of answers) {
      const limit = Number(answer.headers.get('x-ratelimit-limit-requests'));
      expect(Number(answer.headers.get('x-ratelimit-remaining-requests'))).toBeGreaterThan(limit);
      expect(answer.headers.get('x-ratelimit-reset-requests')).toBe('0s');
    }
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers.get('retry-after')).toBe('0');
    // The truth: retrying at once is refused again.
    expect((await call(sim)).status).toBe(429);
  });

  it('retry-after-date: the only hint is an HTTP date, never earlier than the real wait', async () => {
    const sim = await zoo({ shape: 'retry-after-date', rps: 2 });
    const answers = await sequential(sim, 4);
    const refused = answers.find((a) => a.status === 429)!;
    const value = refused.headers.get('retry-after')!;
    expect(value).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(refused.headers.get('retry-after-ms')).toBeNull();
    const wait = parseRetryAfter({ 'retry-after': value })!;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(2000);
  });

  it('retry-info: Gemini RetryInfo.retryDelay in the 429 body, no headers', async () => {
    const sim = await zoo({ shape: 'retry-info', rps: 2 });
    const refused = (await sequential(sim, 4)).find((a) => a.status === 429)!;
    expect(refused.headers.get('retry-after')).toBeNull();
    const delay = readErrorBody(refused.json).retryDelayMs!;
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(500);
  });

  it('queue-503: maxInFlight run, the queue waits its turn, the rest get 503 server busy', async () => {
    const sim = await zoo(
      { shape: 'queue-503', maxInFlight: 2, queue: 2 },
      { latency: { minMs: 150, maxMs: 150 } },
    );
    const started = performance.now();
    const timed = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const answer = await call(sim);
        return { ...answer, ms: performance.now() - started };
      }),
    );
    const ok = timed.filter((a) => a.status === 200);
    expect(ok).toHaveLength(4);
    const busy = timed.filter((a) => a.status === 503);
    expect(busy).toHaveLength(2);
    expect(JSON.stringify(busy[0]!.json)).toMatch(/server busy/);
    // The queued two ran after the first two: about twice the latency.
    expect(Math.max(...ok.map((a) => a.ms))).toBeGreaterThanOrEqual(290);
  });

  it('injects 5xx and connection resets on admitted calls, and latency scales', async () => {
    const sim = await zoo(
      { shape: 'token-bucket', rps: 1000 },
      { faults: { rate5xx: 0.3, rateReset: 0.3 }, seed: 7 },
    );
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () =>
        call(sim).then(
          (a) => a.status,
          () => 'reset' as const,
        ),
      ),
    );
    expect(outcomes).toContain(200);
    expect(outcomes).toContain(500);
    expect(outcomes).toContain('reset');
    expect(sim.stats.faults.reset).toBe(outcomes.filter((o) => o === 'reset').length);
  });
});
