/**
 * The limiter zoo: the ways real providers and self-hosted servers limit a client, as
 * gates the simulator puts in front of every model call (`limiter` in SimulatorOptions,
 * `visionpipe simulate --limiter <shape>`). Each shape refuses the way its model does,
 * with that model's headers and body, so a client can be tried against servers whose
 * limit it was not told:
 *
 * | shape              | limit                                   | says on success / on refusal                              |
 * |--------------------|-----------------------------------------|-----------------------------------------------------------|
 * | `token-bucket`     | `rps` per s, bucket of one second       | OpenAI `x-ratelimit-*-requests` / 429 + `retry-after-ms`, `retry-after` |
 * | `fixed-window`     | `rps × windowMs` per window, reset at its end | OpenAI headers, reset = window end / 429 + `retry-after` (whole s) |
 * | `sliding-log`      | `rps × windowMs` in any window           | IETF `RateLimit-Limit/Remaining/Reset` / 429 + `retry-after` |
 * | `concurrency`      | `maxInFlight` calls at once              | nothing / bare 429, no headers at all                      |
 * | `concurrency-529`  | `maxInFlight` calls at once              | nothing / Anthropic 529 `overloaded_error`                 |
 * | `no-headers`       | token bucket                             | nothing / bare 429                                         |
 * | `lying-headers`    | token bucket                             | remaining above the limit, reset 0 / 429 with `retry-after: 0` |
 * | `retry-after-date` | token bucket                             | nothing / 429 + `Retry-After` as an HTTP date only         |
 * | `retry-info`       | token bucket                             | nothing / 429 with Gemini `RetryInfo.retryDelay` in the body |
 * | `queue-503`        | `maxInFlight` at once + `queue` waiting  | nothing / Ollama's 503 "server busy" when the queue is full |
 * | `leaky-bucket`     | `rps`, evenly: 1/`rps` s apart beyond `burst` | nothing / bare 429 (nginx `limit_req`, no burst by default) |
 *
 * All figures are real time (a scaled server states its own real rate): `rps` is
 * requests per real second, and header values describe the real clock.
 */
import { goDuration } from './core.js';
import { LIMITER_SHAPES, type LimiterShape } from './shapes.js';

export { LIMITER_SHAPES, type LimiterShape };

export interface ZooOptions {
  shape: LimiterShape;
  /** Sustained requests per real second for the rate shapes (default 20). */
  rps?: number;
  /** `fixed-window` and `sliding-log`: the window, real ms (default 2000). */
  windowMs?: number;
  /** `concurrency`, `concurrency-529`: calls in flight allowed; `queue-503`: calls processed at once (default 8). */
  maxInFlight?: number;
  /** `queue-503`: calls waiting for a slot before the server answers 503 (default 4). */
  queue?: number;
  /** `leaky-bucket`: calls beyond the even spacing it admits (nginx `burst`, default 0). */
  burst?: number;
  /**
   * Every refusal names this `Retry-After` (whole seconds) instead of the shape's own wait
   * headers, true or not: a gateway that overstates (`30` on a leaky bucket of 8/s) or
   * understates (`1` on a 4 s fixed window) its wait.
   */
  retryAfterS?: number;
}

/** How a refused call is answered. `rate`: a 429 in the family's own format (plus `retryDelayMs` as RetryInfo). */
export interface Refusal {
  admitted: false;
  kind: 'rate' | 'overloaded' | 'busy';
  headers: Record<string, string>;
  /** A Gemini-style RetryInfo.retryDelay to put in the 429 body. */
  retryDelayMs?: number;
  /** The wait a 429 would honestly name (for the family's message). */
  retryAfterMs: number;
}

export interface Admitted {
  admitted: true;
  headers: Record<string, string>;
  /** Resolves when a processing slot is free (`queue-503`); absent when the call runs at once. */
  ready?: Promise<void>;
  /** Must be called once the call is over (answered, failed or reset); idempotent. */
  leave(): void;
}

export type GateVerdict = Admitted | Refusal;

export interface Gate {
  readonly shape: LimiterShape;
  /** Requests per second the gate sustains, or undefined when it depends on latency (concurrency shapes). */
  readonly ceilingRps: number | undefined;
  /** The in-flight limit for the concurrency shapes. */
  readonly maxInFlight: number | undefined;
  enter(now: number): GateVerdict;
}

const noop = () => {};

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`limiter option ${name} must be a positive number (got ${value})`);
  return value;
}

export function isLimiterShape(value: string): value is LimiterShape {
  return (LIMITER_SHAPES as readonly string[]).includes(value);
}

export function createGate(options: ZooOptions): Gate {
  if (!isLimiterShape(options.shape))
    throw new RangeError(
      `limiter shape must be one of ${LIMITER_SHAPES.join(', ')} (got "${options.shape}")`,
    );
  const rps = positive('rps', options.rps ?? 20);
  const windowMs = positive('windowMs', options.windowMs ?? 2000);
  const maxInFlight = Math.floor(positive('maxInFlight', options.maxInFlight ?? 8));
  const queue = Math.floor(options.queue ?? 4);
  if (!(queue >= 0)) throw new RangeError(`limiter option queue must be ≥ 0 (got ${options.queue})`);
  const burst = Math.floor(options.burst ?? 0);
  if (!(burst >= 0)) throw new RangeError(`limiter option burst must be ≥ 0 (got ${options.burst})`);
  const gate = shapeGate(options.shape, rps, windowMs, maxInFlight, queue, burst);
  const retryAfterS = options.retryAfterS;
  if (retryAfterS === undefined) return gate;
  if (!(Number.isInteger(retryAfterS) && retryAfterS >= 0))
    throw new RangeError(
      `limiter option retryAfterS must be a whole number of seconds ≥ 0 (got ${retryAfterS})`,
    );
  return {
    ...gate,
    enter(now) {
      const verdict = gate.enter(now);
      if (verdict.admitted) return verdict;
      const { 'retry-after-ms': _ms, 'retry-after': _s, ...headers } = verdict.headers;
      return { ...verdict, headers: { ...headers, 'retry-after': String(retryAfterS) } };
    },
  };
}

function shapeGate(
  shape: LimiterShape,
  rps: number,
  windowMs: number,
  maxInFlight: number,
  queue: number,
  burst: number,
): Gate {
  switch (shape) {
    case 'fixed-window':
      return fixedWindow(rps, windowMs);
    case 'sliding-log':
      return slidingLog(rps, windowMs);
    case 'concurrency':
    case 'concurrency-529':
      return concurrencyCap(shape, maxInFlight);
    case 'queue-503':
      return queued(maxInFlight, queue);
    case 'leaky-bucket':
      return leakyBucket(rps, burst);
    default:
      return tokenBucket(shape, rps);
  }
}

/** A bucket of one second's worth (`rps`), refilled continuously. */
function tokenBucket(shape: LimiterShape, rps: number): Gate {
  const capacity = rps;
  let tokens = capacity;
  let last = Number.NEGATIVE_INFINITY;
  const refill = (now: number) => {
    tokens = Math.min(capacity, tokens + ((now - last) / 1000) * rps);
    last = now;
  };
  const budget = (resetMs: number, remaining: number): Record<string, string> => {
    switch (shape) {
      case 'token-bucket':
        return {
          'x-ratelimit-limit-requests': String(capacity),
          'x-ratelimit-remaining-requests': String(Math.max(0, Math.floor(remaining))),
          'x-ratelimit-reset-requests': goDuration(resetMs),
        };
      case 'lying-headers':
        // Remaining above the limit, a reset of zero: nothing here can be believed.
        return {
          'x-ratelimit-limit-requests': String(capacity),
          'x-ratelimit-remaining-requests': String(Math.ceil(capacity * 1.5) + Math.floor(remaining)),
          'x-ratelimit-reset-requests': '0s',
        };
      default:
        return {};
    }
  };
  return {
    shape,
    ceilingRps: rps,
    maxInFlight: undefined,
    enter(now) {
      if (last === Number.NEGATIVE_INFINITY) last = now;
      refill(now);
      if (tokens >= 1) {
        tokens -= 1;
        return { admitted: true, headers: budget(((capacity - tokens) / rps) * 1000, tokens), leave: noop };
      }
      const waitMs = Math.ceil(((1 - tokens) / rps) * 1000);
      const headers = budget(((capacity - tokens) / rps) * 1000, tokens);
      switch (shape) {
        case 'token-bucket':
          headers['retry-after-ms'] = String(waitMs);
          headers['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
          break;
        case 'lying-headers':
          headers['retry-after'] = '0';
          break;
        case 'retry-after-date':
          // An HTTP date has whole seconds: round up so the date is never early.
          headers['retry-after'] = new Date(Math.ceil((Date.now() + waitMs) / 1000) * 1000).toUTCString();
          break;
        default:
          break;
      }
      return {
        admitted: false,
        kind: 'rate',
        headers,
        retryAfterMs: waitMs,
        ...(shape === 'retry-info' ? { retryDelayMs: waitMs } : {}),
      };
    },
  };
}

/** OpenAI's header semantics on a window that resets all at once at its end. */
function fixedWindow(rps: number, windowMs: number): Gate {
  const limit = Math.max(1, Math.round((rps * windowMs) / 1000));
  let start = Number.NEGATIVE_INFINITY;
  let used = 0;
  return {
    shape: 'fixed-window',
    ceilingRps: (limit / windowMs) * 1000,
    maxInFlight: undefined,
    enter(now) {
      if (start === Number.NEGATIVE_INFINITY) start = now;
      if (now >= start + windowMs) {
        start += Math.floor((now - start) / windowMs) * windowMs;
        used = 0;
      }
      const resetMs = start + windowMs - now;
      const admitted = used < limit;
      if (admitted) used++;
      const headers: Record<string, string> = {
        'x-ratelimit-limit-requests': String(limit),
        'x-ratelimit-remaining-requests': String(limit - used),
        'x-ratelimit-reset-requests': goDuration(resetMs),
      };
      if (admitted) return { admitted: true, headers, leave: noop };
      headers['retry-after'] = String(Math.max(1, Math.ceil(resetMs / 1000)));
      return { admitted: false, kind: 'rate', headers, retryAfterMs: resetMs };
    },
  };
}

/** Every admission counts for one window after it; IETF RateLimit-* headers (delta seconds). */
function slidingLog(rps: number, windowMs: number): Gate {
  const limit = Math.max(1, Math.round((rps * windowMs) / 1000));
  const log: number[] = [];
  return {
    shape: 'sliding-log',
    ceilingRps: (limit / windowMs) * 1000,
    maxInFlight: undefined,
    enter(now) {
      while (log.length > 0 && log[0]! + windowMs <= now) log.shift();
      const admitted = log.length < limit;
      if (admitted) log.push(now);
      const resetMs = log.length === 0 ? 0 : log[0]! + windowMs - now;
      const headers: Record<string, string> = {
        'ratelimit-limit': String(limit),
        'ratelimit-remaining': String(limit - log.length),
        'ratelimit-reset': String(Math.ceil(resetMs / 1000)),
      };
      if (admitted) return { admitted: true, headers, leave: noop };
      headers['retry-after'] = String(Math.max(1, Math.ceil(resetMs / 1000)));
      return { admitted: false, kind: 'rate', headers, retryAfterMs: resetMs };
    },
  };
}

/**
 * nginx `limit_req` (and many gateways): a bucket that leaks `rps` calls a second and
 * holds `burst` + 1; a call that does not fit is refused with a bare 429 and not counted.
 * With no burst, a call closer than 1/`rps` s to the last one admitted is refused: the
 * server refuses bursts, not only rate.
 */
function leakyBucket(rps: number, burst: number): Gate {
  let level = 0;
  let last = Number.NEGATIVE_INFINITY;
  return {
    shape: 'leaky-bucket',
    ceilingRps: rps,
    maxInFlight: undefined,
    enter(now) {
      level = Math.max(0, level - ((now - last) / 1000) * rps);
      last = now;
      // A hair of slack: float drain of exactly 1/rps s must count as empty.
      if (level > burst + 1e-9) return { admitted: false, kind: 'rate', headers: {}, retryAfterMs: 0 };
      level += 1;
      return { admitted: true, headers: {}, leave: noop };
    },
  };
}

function concurrencyCap(shape: 'concurrency' | 'concurrency-529', maxInFlight: number): Gate {
  let inFlight = 0;
  return {
    shape,
    ceilingRps: undefined,
    maxInFlight,
    enter() {
      if (inFlight >= maxInFlight)
        return {
          admitted: false,
          kind: shape === 'concurrency' ? 'rate' : 'overloaded',
          headers: {},
          retryAfterMs: 0,
        };
      inFlight++;
      let left = false;
      return {
        admitted: true,
        headers: {},
        leave() {
          if (left) return;
          left = true;
          inFlight--;
        },
      };
    },
  };
}

/** Ollama / vLLM style: `maxInFlight` run, `queue` wait their turn, the rest get 503. */
function queued(maxInFlight: number, queue: number): Gate {
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    shape: 'queue-503',
    ceilingRps: undefined,
    maxInFlight,
    enter() {
      if (running >= maxInFlight && waiting.length >= queue)
        return { admitted: false, kind: 'busy', headers: {}, retryAfterMs: 0 };
      let left = false;
      let started = running < maxInFlight;
      const leave = () => {
        if (left) return;
        left = true;
        if (!started) {
          const index = waiting.indexOf(start);
          if (index !== -1) waiting.splice(index, 1);
          return;
        }
        running--;
        waiting.shift()?.();
      };
      let resolveReady: () => void = noop;
      const start = () => {
        started = true;
        running++;
        resolveReady();
      };
      if (started) {
        running++;
        return { admitted: true, headers: {}, leave };
      }
      const ready = new Promise<void>((resolve) => {
        resolveReady = resolve;
      });
      waiting.push(start);
      return { admitted: true, headers: {}, ready, leave };
    },
  };
}
