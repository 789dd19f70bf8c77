/**
 * Drives an AdaptiveFlow against a server gate on vitest's fake clock: `width` workers make
 * `calls` successful calls, each request and answer taking 1-21 ms (`transitMs`) on its way (seeded), the
 * server holding an accepted call `latencyMs` (seeded within the range). Deterministic, so a
 * flow change is measured without timing noise. The caller installs the fake timers
 * (`vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })`).
 */
import { vi } from 'vitest';
import { AdaptiveFlow, type AdaptiveFlowOptions, type FlowSlot } from '../../src/flow/adaptive.js';
import type { Limiter } from '../../src/flow/limiter.js';
import { parseRateLimitHeaders } from '../../src/flow/rate-limit-headers.js';
import { parseRetryAfter } from '../../src/flow/retry-after.js';

/** What a server answers one request (ms on the fake clock since the epoch). */
export interface GateAnswer {
  admitted: boolean;
  headers: Record<string, string>;
  /** Called when an admitted call is over (a concurrency cap frees its slot). */
  leave?: () => void;
}

export interface DriveOptions {
  calls: number;
  width: number;
  enter: (now: number) => GateAnswer;
  /** Server time of an accepted call, ms (default 100-500). */
  latencyMs?: readonly [number, number];
  /**
   * Time an accepted call's body takes after its headers, ms (default 0): a server that
   * counts a call until its body is sent holds its slot that much longer.
   */
  bodyMs?: number;
  /** Every n-th accepted call is a 5xx (retried, teaches nothing); 0 for none (default 20). */
  failEvery?: number;
  flow?: Partial<AdaptiveFlowOptions>;
  seed?: number;
  /**
   * Each way between client and server, ms (default 1-21): a wider range has calls reach the
   * server further out of send order, as over loopback HTTP on a busy event loop.
   */
  transitMs?: readonly [number, number];
  /**
   * A configured limit (`--rpm`): every admitted call also waits for it, after the flow, as
   * call-policy orders them (give it the fake clock: `now: () => Date.now()`).
   */
  limiter?: Limiter;
}

export interface DriveRun {
  accepted: number;
  refused: number;
  /** Calls the gate took (5xx included). */
  admitted: number;
  /** Send times (ms since the start) of the calls the gate took. */
  admittedAt: number[];
  /** When each refusal came back (ms since the start) and the flow's rate right after it. */
  refusals: Array<{ atMs: number; rate: number }>;
  wallMs: number;
  flow: AdaptiveFlow;
}

/** A seeded source of numbers in [0, 1) (a linear congruential generator): the same run every time. */
/** An admitted call the server fails with a 5xx (retried, teaches nothing): it leaves the gate and comes back failed. */
export async function answerFailed(
  slot: FlowSlot,
  verdict: GateAnswer,
  transit: () => Promise<void>,
): Promise<void> {
  verdict.leave?.();
  slot.answered(500);
  await transit();
  slot.done({ kind: 'failed' });
}

export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

export async function driveFlow(options: DriveOptions): Promise<DriveRun> {
  const { calls, width, enter } = options;
  const [minLatency, maxLatency] = options.latencyMs ?? [100, 500];
  const failEvery = options.failEvery ?? 20;
  const flow = new AdaptiveFlow({ maxConcurrency: width, now: () => Date.now(), ...options.flow });
  const start = Date.now();
  const random = seededRandom(options.seed ?? 7);
  const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const [minTransit, maxTransit] = options.transitMs ?? [1, 21];
  const transit = () => delay(minTransit + Math.floor(random() * (maxTransit - minTransit)));
  let accepted = 0;
  let admitted = 0;
  let refused = 0;
  const admittedAt: number[] = [];
  const refusals: DriveRun['refusals'] = [];
  const call = async (): Promise<void> => {
    for (;;) {
      const slot = await flow.admit();
      await options.limiter?.acquire();
      slot.started();
      await transit();
      const verdict = enter(Date.now());
      const rateLimit = parseRateLimitHeaders('openai', verdict.headers);
      if (verdict.admitted) {
        admittedAt.push(Date.now() - start);
        if (failEvery > 0 && ++admitted % failEvery === 0) {
          await answerFailed(slot, verdict, transit);
          continue;
        }
        if (failEvery === 0) admitted++;
        await delay(minLatency + Math.floor(random() * (maxLatency - minLatency)));
        if (options.bodyMs) {
          slot.answered(200);
          await delay(options.bodyMs);
          verdict.leave?.();
        } else {
          verdict.leave?.();
          slot.answered(200);
        }
        await transit();
        accepted++;
        slot.done({ kind: 'ok', rateLimit });
        return;
      }
      slot.answered(429);
      await transit();
      refused++;
      slot.done({ kind: 'throttled', retryAfterMs: parseRetryAfter(verdict.headers), rateLimit });
      refusals.push({ atMs: Date.now() - start, rate: flow.state.rate });
    }
  };
  try {
    await runCallsOnFakeClock(calls, width, call, 600_000);
  } finally {
    flow.close();
  }
  return { accepted, refused, admitted, admittedAt, refusals, wallMs: Date.now() - start, flow };
}

/**
 * A token bucket of one second's worth whose refill rate (calls/s) `rateAt(ms since its
 * first call)` may change over time; refusals carry a bare `Retry-After: 1` and no budget
 * headers (the shape of a gateway that was not built to be read).
 */
/**
 * Runs `calls` calls of `call`, `width` at a time, advancing the fake clock 5 ms a step
 * until all ended; throws when they have not after `steps` steps (steps × 5 ms simulated).
 */
export async function runCallsOnFakeClock(
  calls: number,
  width: number,
  call: () => Promise<void>,
  steps: number,
): Promise<void> {
  let next = 0;
  let finished = false;
  void Promise.all(
    Array.from({ length: width }, async () => {
      while (next < calls) {
        next++;
        await call();
      }
    }),
  ).then(() => {
    finished = true;
  });
  for (let i = 0; i < steps && !finished; i++) await vi.advanceTimersByTimeAsync(5);
  if (!finished) throw new Error('the calls did not all end within the simulated time');
}

export function changingBucket(rateAt: (sinceMs: number) => number): (now: number) => GateAnswer {
  let first: number | undefined;
  let last = 0;
  let tokens = 0;
  return (now): GateAnswer => {
    first ??= now;
    const rate = rateAt(now - first);
    if (last === 0) tokens = rate;
    else tokens = Math.min(rate, tokens + ((now - last) / 1000) * rate);
    last = now;
    if (tokens >= 1) {
      tokens -= 1;
      return { admitted: true, headers: {} };
    }
    return { admitted: false, headers: { 'retry-after': '1' } };
  };
}

/** A token bucket of one second's worth answering refusals with a bare 429 (the zoo's no-headers). */
export function bareBucket(rate: number): (now: number) => GateAnswer {
  const bucket = changingBucket(() => rate);
  return (now) => {
    const answer = bucket(now);
    return answer.admitted ? answer : { admitted: false, headers: {} };
  };
}

/** A cap on calls in flight: more than `max` at once are refused with a bare 429. */
export function concurrencyCapGate(max: number): (now: number) => GateAnswer {
  let inFlight = 0;
  return () => {
    if (inFlight >= max) return { admitted: false, headers: {} };
    inFlight++;
    let left = false;
    return {
      admitted: true,
      headers: {},
      leave: () => {
        if (left) return;
        left = true;
        inFlight--;
      },
    };
  };
}
