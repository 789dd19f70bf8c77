/**
 * The zoo servers bench/flow.ts (and its worker processes) run against: every limiter
 * shape of src/simulator/zoo.ts, time-scaled so a cell of 300 images takes seconds, with
 * the faults of the measurement (5 % 5xx, 1 % connection resets).
 *
 * Latency: "fast" is 0.2–1 s scaled by 0.5 (100–500 ms); "slow" is 2–10 s scaled by
 * 0.1 (200 ms–1 s). Rates are chosen so concurrency 10 can reach the ceiling
 * (10 / mean latency ≥ 1.1 × the limit); a limit no window of 10 can reach would measure
 * the window, not flow control.
 */
import type { SimulatorOptions, ZooOptions } from '../src/simulator/index.js';

export interface ZooServer {
  name: string;
  limiter: ZooOptions;
  latency: { minMs: number; maxMs: number };
}

const FAST = { minMs: 100, maxMs: 500 };
const SLOW = { minMs: 200, maxMs: 1000 };
/** The trial of issue 10 that found the leaky bucket (nginx limit_req, no burst): 100-800 ms. */
const SLOW_LEAKY = { minMs: 100, maxMs: 800 };
const RPS = 25;

export const ZOO_SERVERS: ZooServer[] = [
  { name: 'token-bucket', limiter: { shape: 'token-bucket', rps: RPS }, latency: FAST },
  { name: 'token-bucket, 2–10 s', limiter: { shape: 'token-bucket', rps: 12 }, latency: SLOW },
  { name: 'fixed-window', limiter: { shape: 'fixed-window', rps: RPS, windowMs: 2000 }, latency: FAST },
  { name: 'sliding-log', limiter: { shape: 'sliding-log', rps: RPS, windowMs: 2000 }, latency: FAST },
  { name: 'concurrency 8 (429)', limiter: { shape: 'concurrency', maxInFlight: 8 }, latency: FAST },
  { name: 'concurrency 8 (529)', limiter: { shape: 'concurrency-529', maxInFlight: 8 }, latency: FAST },
  { name: 'no-headers', limiter: { shape: 'no-headers', rps: RPS }, latency: FAST },
  { name: 'lying-headers', limiter: { shape: 'lying-headers', rps: RPS }, latency: FAST },
  { name: 'retry-after-date', limiter: { shape: 'retry-after-date', rps: RPS }, latency: FAST },
  { name: 'retry-info', limiter: { shape: 'retry-info', rps: RPS }, latency: FAST },
  { name: 'leaky-bucket 12/s', limiter: { shape: 'leaky-bucket', rps: 12 }, latency: SLOW_LEAKY },
  { name: 'queue-503 (8+4)', limiter: { shape: 'queue-503', maxInFlight: 8, queue: 4 }, latency: FAST },
];

export function simulatorOptions(server: ZooServer): SimulatorOptions {
  return {
    limiter: server.limiter,
    latency: server.latency,
    faults: { rate5xx: 0.05, rateReset: 0.01 },
    answer: 'empty',
    seed: 11,
  };
}

/** Requests per second the server sustains: its rate, or its in-flight cap over the mean latency. */
export function ceilingRps(server: ZooServer): number {
  const { limiter, latency } = server;
  if (limiter.shape === 'concurrency' || limiter.shape === 'concurrency-529' || limiter.shape === 'queue-503')
    return (limiter.maxInFlight ?? 8) / ((latency.minMs + latency.maxMs) / 2 / 1000);
  return limiter.rps ?? 20;
}
