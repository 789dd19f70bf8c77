/**
 * A circuit breaker per provider, on cockatiel: after a streak of provider-health
 * failures (or, optionally, a failure ratio over a time window) calls fail fast with
 * CIRCUIT_OPEN instead of burning the batch against an outage; after `halfOpenAfterMs`
 * one probe call goes through (concurrent callers wait for its outcome) and a success
 * closes the circuit again. A failed probe opens it for half as long again as the last
 * time (`PROBE_GROWTH`), up to `maxHalfOpenAfterMs`: a short outage costs seconds, a long
 * one a probe every 30 s (a fixed 30 s left a run idle for 22 s after a 10 s outage, trial
 * of issue 10).
 *
 * Only failures that say the provider is unwell count: outages, timeouts, resets,
 * unreadable bodies. One image's 400, an auth error, a schema mismatch or a 429 (the
 * limiter's business) never open it.
 */
import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IBreaker,
  isBrokenCircuitError,
  isTaskCancelledError,
  SamplingBreaker,
} from 'cockatiel';
import { type ErrorCode, VisionpipeError } from '../errors.js';
import { publish } from '../observe/events.js';
import { isTransientNetworkError } from './retry-rules.js';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface BreakerOptions {
  /** Open after this many provider-health failures in a row (default 10). */
  consecutiveFailures?: number;
  /** Also open when this share (0–1) of calls failed over `ratioWindowMs` (default: off). */
  failureRatio?: number;
  /** The window the failure ratio is measured over (default 30 000 ms). */
  ratioWindowMs?: number;
  /** Calls per second needed before the ratio may open the circuit (default 1). */
  minimumRps?: number;
  /** How long the circuit stays open before the first probe (default 4 000 ms); × `PROBE_GROWTH` with each failed probe. */
  halfOpenAfterMs?: number;
  /** The longest it stays open before a probe (default 30 000 ms, or `halfOpenAfterMs` when that is longer). */
  maxHalfOpenAfterMs?: number;
  /** Which errors count as provider-health failures (default: HEALTH_FAILURE_CODES and network resets). */
  isFailure?: (error: unknown) => boolean;
}

export interface BreakerStateChange {
  providerId: string;
  state: BreakerState;
  /** When opening: how long until the probe. */
  retryAfterMs?: number;
  /** When opening: the failure that tripped it. */
  error?: unknown;
}

export const BREAKER_DEFAULTS = {
  consecutiveFailures: 10,
  ratioWindowMs: 30_000,
  minimumRps: 1,
  halfOpenAfterMs: 4_000,
  maxHalfOpenAfterMs: 30_000,
} as const;

/**
 * How much longer each failed probe keeps the circuit open than the last one. Not 2: the
 * breaker opens some seconds into an outage of bare 503s (the flow reads the first ones as
 * a cap while recent successes say so, up to 5 s), and doubling (4, 8 s) then left a 10 s
 * outage idle 7 s after the server was back (test/flow/breaker-wait: 4, 6, 9 s: under 6 s
 * wherever the breaker opened in it). A probe costs one request: a held call spends no attempt.
 */
export const PROBE_GROWTH = 1.5;

/** The error codes that count against a provider's health. */
export const HEALTH_FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_TIMEOUT',
  'CONNECTION_FAILED',
  'BAD_RESPONSE',
]);

export function isHealthFailure(error: unknown): boolean {
  if (error instanceof VisionpipeError) return HEALTH_FAILURE_CODES.has(error.code);
  return isTransientNetworkError(error);
}

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

export class ProviderBreaker {
  readonly providerId: string;
  /** The cockatiel policy underneath, for composition and its own events. */
  readonly policy: CircuitBreakerPolicy;
  private readonly halfOpenAfterMs: number;
  /** The wait before the probe of the current opening (ms). */
  private openForMs: number;
  private openedAt = 0;
  /** When the circuit last opened from closed (ms since the epoch): the outage's start, kept through failed probes. */
  private outageFrom: number | undefined;
  private lastError: unknown;

  constructor(providerId: string, options: BreakerOptions = {}) {
    this.providerId = providerId;
    this.halfOpenAfterMs = positive(
      'halfOpenAfterMs',
      options.halfOpenAfterMs ?? BREAKER_DEFAULTS.halfOpenAfterMs,
    );
    this.openForMs = this.halfOpenAfterMs;
    const longest = Math.max(
      this.halfOpenAfterMs,
      positive('maxHalfOpenAfterMs', options.maxHalfOpenAfterMs ?? BREAKER_DEFAULTS.maxHalfOpenAfterMs),
    );
    const isFailure = options.isFailure ?? isHealthFailure;
    // cockatiel asks the factory for a wait when the circuit opens from closed, and the
    // wait's `next` when a probe fails: each one is remembered for retryAfterMs.
    const growing = (ms: number): IBackoff<unknown> => ({
      duration: ms,
      next: () => {
        const after = Math.min(longest, ms * PROBE_GROWTH);
        this.openForMs = after;
        return growing(after);
      },
    });
    const halfOpenAfter: IBackoffFactory<unknown> = {
      next: () => {
        this.openForMs = this.halfOpenAfterMs;
        return growing(this.halfOpenAfterMs);
      },
    };
    this.policy = circuitBreaker(
      handleWhen((error) => isFailure(error)),
      { halfOpenAfter, breaker: createBreaker(options) },
    );
    this.policy.onStateChange((state) => {
      if (state === CircuitState.Closed) this.outageFrom = undefined;
      publish('circuit', { provider: providerId, state: STATE_NAMES[state] });
    });
    this.policy.onBreak((reason) => {
      this.openedAt = Date.now();
      this.outageFrom ??= this.openedAt;
      this.lastError = 'error' in reason ? reason.error : undefined;
    });
  }

  /** Milliseconds since the circuit opened from closed, failed probes included (0 while closed). */
  get outageMs(): number {
    if (this.outageFrom === undefined || this.policy.state === CircuitState.Closed) return 0;
    return Math.max(0, Date.now() - this.outageFrom);
  }

  get state(): BreakerState {
    return STATE_NAMES[this.policy.state];
  }

  /** Milliseconds until the next probe may go (0 unless open). */
  get retryAfterMs(): number {
    if (this.policy.state !== CircuitState.Open) return 0;
    return Math.max(0, this.openedAt + this.openForMs - Date.now());
  }

  /** The last provider-health failure that opened (or reopened) the circuit. */
  get lastFailure(): unknown {
    return this.lastError;
  }

  /** Runs `fn` through the breaker; when open, rejects at once with a retryable CIRCUIT_OPEN. */
  async execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await this.policy.execute(({ signal: inner }) => fn(inner), signal);
    } catch (error) {
      if (isTaskCancelledError(error) && signal?.aborted) throw signal.reason;
      if (isBrokenCircuitError(error)) throw this.openError();
      throw error;
    }
  }

  /** Calls `listener` on every state change (logging, metrics). */
  onStateChange(listener: (change: BreakerStateChange) => void): { dispose(): void } {
    return this.policy.onStateChange((state) => {
      const change: BreakerStateChange = { providerId: this.providerId, state: STATE_NAMES[state] };
      if (state === CircuitState.Open) {
        change.retryAfterMs = this.retryAfterMs;
        change.error = this.lastError;
      }
      listener(change);
    });
  }

  private openError(): VisionpipeError {
    const retryAfterMs = this.retryAfterMs || this.openForMs;
    const last = this.lastError instanceof Error ? ` (last failure: ${this.lastError.message})` : '';
    return new VisionpipeError(
      'CIRCUIT_OPEN',
      `${this.providerId}: calls are paused after repeated provider failures${last}; ` +
        `next probe in ${Math.ceil(retryAfterMs / 1000)} s`,
      { retryable: true, retryAfterMs, cause: this.lastError },
    );
  }
}

const registry = new Map<string, ProviderBreaker>();

/**
 * The process-wide breaker of a provider, so all pipelines calling it share one view of
 * its health. The first caller's options create it; later options are ignored.
 */
export function breakerFor(providerId: string, options?: BreakerOptions): ProviderBreaker {
  let breaker = registry.get(providerId);
  if (breaker === undefined) {
    breaker = new ProviderBreaker(providerId, options);
    registry.set(providerId, breaker);
  }
  return breaker;
}

/** Forgets every registered breaker (tests, or a new run in the same process). */
export function resetBreakers(): void {
  registry.clear();
}

function createBreaker(options: BreakerOptions): IBreaker {
  const streak = new ConsecutiveBreaker(
    positive('consecutiveFailures', options.consecutiveFailures ?? BREAKER_DEFAULTS.consecutiveFailures),
  );
  if (options.failureRatio === undefined) return streak;
  if (!(options.failureRatio > 0 && options.failureRatio <= 1)) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `breaker option failureRatio must be in (0, 1] (got ${options.failureRatio})`,
      { option: 'failureRatio' },
    );
  }
  const ratio = new SamplingBreaker({
    threshold: options.failureRatio,
    duration: positive('ratioWindowMs', options.ratioWindowMs ?? BREAKER_DEFAULTS.ratioWindowMs),
    minimumRps: positive('minimumRps', options.minimumRps ?? BREAKER_DEFAULTS.minimumRps),
  });
  return eitherBreaker(streak, ratio);
}

/** Opens when either breaker would: a streak or a ratio. Both always see every outcome. */
function eitherBreaker(a: IBreaker, b: IBreaker): IBreaker {
  return {
    get state() {
      return [a.state, b.state];
    },
    set state(value: unknown) {
      if (Array.isArray(value)) [a.state, b.state] = value;
    },
    success(state) {
      a.success(state);
      b.success(state);
    },
    failure(state) {
      const first = a.failure(state);
      const second = b.failure(state);
      return first || second;
    },
  };
}

function positive(option: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `breaker option ${option} must be a positive number (got ${value})`,
      {
        option,
      },
    );
  }
  return value;
}
