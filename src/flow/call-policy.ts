/**
 * One provider call with everything flow/ offers, composed in the order that keeps
 * each piece honest:
 *
 *   retry ─► breaker ─► [flow.admit ─► limiter.acquire(cost) ─► fn under a per-attempt timeout]
 *                        └── a throttle (429 rate limit, 529, 503) loops back to flow.admit ──┘
 *
 * Retry is outermost so every attempt is one sample for the breaker (the order
 * cockatiel and Polly recommend) and an open circuit's CIRCUIT_OPEN is waited out by
 * retry like a Retry-After. The breaker sits before the limiter so a dead provider
 * does not consume rate budget. The timeout covers the call only, not the wait for a
 * slot. Responses feed the limiter: rate-limit headers on success, the 429's
 * Retry-After on failure, so one caller's 429 slows every caller of that limiter.
 *
 * With an adaptive flow (flow/adaptive.ts), a throttle is not an attempt: the call goes
 * back to the flow, which has paused and slowed everyone, and is sent again when
 * admitted, for as long as the wait budget (`retry.maxTotalWaitMs`, `--max-retry-wait`,
 * default 2 min) lasts. Waits and refused calls are added to `tally` (the record's
 * `rate_limited`). Without a flow, throttles are retried like any retryable failure.
 */
import { VisionpipeError } from '../errors.js';
import { publish } from '../observe/events.js';
import { inProviderSpan } from '../observe/spans.js';
import type { RateLimitSnapshot } from '../providers/spec.js';
import type { AdaptiveFlow } from './adaptive.js';
import type { ProviderBreaker } from './circuit-breaker.js';
import type { Limiter, LimiterCost } from './limiter.js';
import { type Attempted, markAttempts, RETRY_DEFAULTS, type RetryOptions, retry } from './retry.js';
import { isThrottle, rateLimitOfError, type ThrottleTally } from './throttle.js';

export interface CallPolicyOptions {
  /** The provider's adaptive flow control: learns its rate and concurrency, waits out throttles. */
  flow?: AdaptiveFlow;
  /** Where this call's rate-limit waits are added up (the record's `rate_limited`). */
  tally?: ThrottleTally;
  limiter?: Limiter;
  breaker?: ProviderBreaker;
  /** What one attempt costs against the limiter (default one request, no tokens). */
  cost?: LimiterCost;
  /** Per-attempt timeout (default 120 000 ms; Infinity for none). Expiry is a retryable PROVIDER_TIMEOUT. */
  timeoutMs?: number;
  /** How long everyone pauses after a 429 that named no Retry-After (default 1000 ms). */
  rateLimitPauseMs?: number;
  /** Retry policy (maxAttempts, delays, onRetry…). */
  retry?: Omit<RetryOptions, 'signal'>;
  signal?: AbortSignal;
  /** Names the call in timeout messages (e.g. `openai gpt-4o: receipt.jpg`). */
  label?: string;
  /** Who is called: each attempt and retry is published (observe/events.ts) for metrics and logs. */
  observe?: { provider: string; model: string; operation: 'extract' | 'ask' };
}

export const CALL_POLICY_DEFAULTS = {
  timeoutMs: 120_000,
  rateLimitPauseMs: 1000,
} as const;

export function callWithPolicy<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: CallPolicyOptions = {},
): Promise<Attempted<T>> {
  const { limiter, breaker, cost, signal } = options;
  const timeoutMs = options.timeoutMs ?? CALL_POLICY_DEFAULTS.timeoutMs;
  const pauseMs = options.rateLimitPauseMs ?? CALL_POLICY_DEFAULTS.rateLimitPauseMs;
  const label = options.label ?? 'provider call';

  const who = options.observe;
  const { flow, tally } = options;
  const budgetMs = options.retry?.maxTotalWaitMs ?? RETRY_DEFAULTS.maxTotalWaitMs;
  let throttleWaitMs = 0;

  const once = async (n: number, attemptSignal: AbortSignal): Promise<T> => {
    const queued = performance.now();
    await limiter?.acquire(cost, attemptSignal);
    const started = performance.now();
    try {
      const call = () => withTimeout((inner) => fn(n, inner), timeoutMs, attemptSignal, label);
      const value = who ? await inProviderSpan(who, n, call) : await call();
      limiter?.observe(rateLimitOf(value));
      if (who)
        publish('attempt', {
          ...who,
          attempt: n,
          durationMs: performance.now() - started,
          waitMs: started - queued,
          ok: true,
        });
      return value;
    } catch (error) {
      // With a flow, the flow decides the pause (it knows when a Retry-After is missing or wrong).
      if (limiter && !flow && isRateLimited(error))
        limiter.observe({ retryAfterMs: error.retryAfterMs ?? pauseMs });
      if (who && !attemptSignal.aborted) {
        const failure = error instanceof VisionpipeError ? error : undefined;
        publish('attempt', {
          ...who,
          attempt: n,
          durationMs: performance.now() - started,
          waitMs: started - queued,
          ok: false,
          code: failure?.code ?? 'INTERNAL',
          ...(failure?.status === undefined ? {} : { status: failure.status }),
        });
      }
      throw error;
    }
  };

  const attempt = async (n: number, attemptSignal: AbortSignal): Promise<T> => {
    if (!flow) return once(n, attemptSignal);
    // What the flow learned, for visionpipe_limiter_rate / _concurrency (after every call).
    const reportFlow = () => {
      if (!who) return;
      const { rate, concurrency } = flow.state;
      publish('limiterRate', {
        provider: who.provider,
        concurrency,
        ...(Number.isFinite(rate) ? { requestsPerMinute: rate * 60 } : {}),
      });
    };
    for (let refused = 0; ; refused++) {
      const waitStarted = performance.now();
      const slot = await flow.admit(attemptSignal);
      if (refused > 0) {
        const waited = performance.now() - waitStarted;
        throttleWaitMs += waited;
        if (tally) tally.waitMs += waited;
      }
      try {
        const value = await once(n, attemptSignal);
        slot.done({ kind: 'ok', rateLimit: rateLimitOf(value) });
        reportFlow();
        return value;
      } catch (error) {
        if (!isThrottle(error) || attemptSignal.aborted) {
          slot.done({ kind: 'failed' });
          reportFlow();
          throw error;
        }
        slot.done({
          kind: 'throttled',
          retryAfterMs: error.retryAfterMs,
          rateLimit: rateLimitOfError(error),
        });
        reportFlow();
        if (tally) tally.count++;
        // The wait budget is spent, or the pause ahead would overrun it: fail now, not later.
        if (throttleWaitMs + flow.holdMs > budgetMs) {
          const message = `${label}: still rate limited after waiting ${Math.round(throttleWaitMs / 1000)} s, and the next wait would overrun the --max-retry-wait budget of ${Math.round(budgetMs / 1000)} s: ${error.message}`;
          throw markAttempts(new VisionpipeError('RATE_LIMITED', message, { retryable: false }), n);
        }
        // The refused call is sent again once the flow admits it: a retry for metrics and logs.
        if (who)
          publish('retry', {
            provider: who.provider,
            model: who.model,
            attempt: n,
            code: error.code,
            delayMs: flow.holdMs,
            throttled: true,
            ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
          });
      }
    }
  };

  const onRetry = options.retry?.onRetry;
  return retry(
    (n, retrySignal) =>
      breaker ? breaker.execute((inner) => attempt(n, inner), retrySignal) : attempt(n, retrySignal),
    {
      ...options.retry,
      signal,
      ...(who || onRetry
        ? {
            onRetry: (info) => {
              if (who) {
                const failure = info.error instanceof VisionpipeError ? info.error : undefined;
                publish('retry', {
                  provider: who.provider,
                  model: who.model,
                  attempt: info.attempt,
                  code: failure?.code ?? 'INTERNAL',
                  delayMs: info.delayMs,
                  throttled: isThrottle(info.error),
                  ...(failure?.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
                });
              }
              onRetry?.(info);
            },
          }
        : {}),
    },
  );
}

/** The `rateLimit` snapshot a provider result carries (ExtractResult, AskResult), if any. */
function rateLimitOf(value: unknown): RateLimitSnapshot | undefined {
  if (typeof value !== 'object' || value === null || !('rateLimit' in value)) return undefined;
  return (value as { rateLimit?: RateLimitSnapshot }).rateLimit;
}

function isRateLimited(error: unknown): error is VisionpipeError {
  return (
    error instanceof VisionpipeError &&
    (error.code === 'RATE_LIMITED' || error.status === 429) &&
    error.code !== 'QUOTA_EXCEEDED'
  );
}

/**
 * Runs `fn` with a signal that aborts when the outer signal does or `timeoutMs` passes,
 * and settles promptly either way even if `fn` ignores its signal. The timer is always cleared.
 */
export async function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  outer: AbortSignal | undefined,
  label = 'call',
): Promise<T> {
  if (outer?.aborted) throw outer.reason;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => {
      controller.abort(outer?.reason);
      reject(outer?.reason);
    };
    outer?.addEventListener('abort', onAbort, { once: true });
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        const error = new VisionpipeError('PROVIDER_TIMEOUT', `${label}: no answer within ${timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    }
  });
  try {
    return await Promise.race([fn(controller.signal), stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) outer?.removeEventListener('abort', onAbort);
    // The losing side of the race must not become an unhandled rejection.
    stopped.catch(() => {});
  }
}
