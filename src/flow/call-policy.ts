/**
 * One provider call with everything flow/ offers, composed in the order that keeps
 * each piece honest:
 *
 *   retry ─► breaker ─► [flow.admit ─► limiter.acquire(cost) ─► fn under a per-attempt timeout]
 *                        └── a throttle (429 rate limit, 529, 503) loops back to flow.admit ──┘
 *
 * Retry is outermost so every attempt is one sample for the breaker (the order
 * cockatiel and Polly recommend). A call that finds the circuit open waits for it within
 * the same attempt, its wait spent from the image's wait budget (flow/breaker-wait.ts):
 * a refusal by the breaker is no attempt. The breaker sits before the limiter so a dead provider
 * does not consume rate budget. The timeout covers the call only, not the wait for a
 * slot. Responses feed the limiter: rate-limit headers on success, the 429's
 * Retry-After on failure, so one caller's 429 slows every caller of that limiter.
 *
 * With an adaptive flow (flow/adaptive.ts), a throttle is not an attempt: the call goes
 * back to the flow, which has paused and slowed everyone, and is sent again when
 * admitted, for as long as the image's wait budget (`retry.maxTotalWaitMs`,
 * `--max-retry-wait`, default 2 min) lasts. The budget is per image: `tally` (the record's
 * `rate_limited`) is shared by all the image's calls, and holds the refused calls and the
 * time spent waiting to send them again (the flow's admission, then the limiter). That
 * wait is cut off when the budget runs out, so `wait_ms` never passes it; a known pause
 * that would overrun it fails the image at once. A refused call waits ahead of calls not
 * sent yet, the one whose budget ends first first (`flow.admit`'s deadline), so the
 * budget is spent on its own pause, not behind new images. The wait before a call's first send
 * (pacing) is not budgeted: like every wait it is published (`callState`) for the
 * progress line. Without a flow, throttles are retried like any retryable failure.
 */
import { formatDuration } from '../cli/format.js';
import { VisionpipeError } from '../errors.js';
import { type CallStateEvent, publish } from '../observe/events.js';
import { inProviderSpan } from '../observe/spans.js';
import type { RateLimitSnapshot } from '../providers/spec.js';
import type { AdaptiveFlow, FlowSlot } from './adaptive.js';
import { HeldByBreaker, throughBreaker } from './breaker-wait.js';
import { withCallPhase } from './call-phase.js';
import type { ProviderBreaker } from './circuit-breaker.js';
import type { Limiter, LimiterCost } from './limiter.js';
import { notSentOverBudget, overBudget, type ReportedBudget, type WaitAhead } from './over-budget.js';
import { noteQuotaRefusal, quotaStopped } from './quota-stop.js';
import {
  type Attempted,
  attemptsOf,
  markAttempts,
  RETRY_DEFAULTS,
  type RetryOptions,
  retry,
} from './retry.js';
import { isBare503, isThrottle, markCapRefusal, rateLimitOfError, type ThrottleTally } from './throttle.js';
import { answeredAfterWait, refusedWait, sentAfterWait } from './understated-wait.js';

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
  const { flow } = options;
  // The image's rate-limit waits (its record's `rate_limited`), shared by every call made
  // for it: the --max-retry-wait budget is per image, not per call.
  const tally = options.tally ?? { count: 0, waitMs: 0 };
  const budgetMs = options.retry?.maxTotalWaitMs ?? RETRY_DEFAULTS.maxTotalWaitMs;
  /** Where this call is, for the progress line (observe/events.ts callState). */
  const state = (phase: CallStateEvent['phase'], wait: Wait, extra: Partial<CallStateEvent> = {}) => {
    if (who)
      publish('callState', { provider: who.provider, phase, afterRefusal: wait.afterRefusal, ...extra });
  };

  /** One send; with a flow `slot`, the transport tells it when the request is on the server (call-phase.ts). */
  const once = async (n: number, attemptSignal: AbortSignal, wait: Wait, slot?: FlowSlot): Promise<T> => {
    const queued = performance.now();
    try {
      await limiter?.acquire(cost, wait.signal);
    } catch (error) {
      wait.ended();
      state('done', wait, { from: 'waiting', waitedMs: performance.now() - wait.since });
      throw wait.overrun(error);
    }
    const started = performance.now();
    wait.ended();
    state('sending', wait, { waitedMs: started - wait.since });
    try {
      const send = () => withTimeout((inner) => fn(n, inner), timeoutMs, attemptSignal, label);
      const call = slot ? () => withCallPhase(slot, send) : send;
      const value = who ? await inProviderSpan(who, n, call) : await call();
      state('done', wait, { from: 'sending' });
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
      state('done', wait, { from: 'sending' });
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

  // Whether the latest attempt had an answer other than a refusal: an attempt whose every
  // send was refused (429, 529, busy 503) or that was stopped while waiting to send again is
  // not an attempt (record `attempts`), only `rate_limited`.
  let answered = true;
  // The provider (one object per provider in a run) a used-up quota stops.
  const provider = flow ?? breaker ?? limiter;
  if (flow && breaker) recoverAfterOutage(flow, breaker);
  /** `opened()`: the breaker opened after this attempt went through it (flow/breaker-wait.ts). */
  const attempt = async (n: number, attemptSignal: AbortSignal, opened?: () => boolean): Promise<T> => {
    answered = true;
    const stopped = provider && quotaStopped(provider);
    if (stopped) {
      answered = false;
      throw stopped;
    }
    if (!flow) {
      const wait = pacing(attemptSignal);
      state('waiting', wait);
      return once(n, attemptSignal, wait);
    }
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
    let refusal: VisionpipeError | undefined;
    for (;;) {
      answered = false;
      // Before the first send: pacing, not bounded. After a refusal: the wait to be sent
      // again (the flow's pause, then the limiter) ends at what is left of the image's budget.
      const wait = refusal
        ? resend(
            attemptSignal,
            tally,
            budgetMs - tally.waitMs,
            refusal,
            n,
            label,
            budgetMs,
            () => flow.believedHoldMs,
          )
        : firstSend(attemptSignal, tally, budgetMs, n, label, flow, () =>
            provider ? quotaStopped(provider) : undefined,
          );
      state('waiting', wait);
      let slot: FlowSlot;
      try {
        // The estimated tokens wait for room in the token budget the headers report.
        slot = await flow.admit(wait.signal, wait.deadline, cost?.tokens ?? 0);
      } catch (error) {
        wait.ended();
        state('done', wait, { from: 'waiting', waitedMs: performance.now() - wait.since });
        throw wait.overrun(error);
      }
      // The circuit opened while this call waited for the flow: back to wait for it, unsent.
      if (opened?.()) {
        wait.ended();
        state('done', wait, { from: 'waiting', waitedMs: performance.now() - wait.since });
        slot.done({ kind: 'failed' });
        throw new HeldByBreaker();
      }
      // The first call sent after a wait the server named tests it (understated-wait.ts).
      const first = sentAfterWait(flow, performance.now());
      try {
        const value = await once(n, attemptSignal, wait, slot);
        answered = true;
        answeredAfterWait(flow, first);
        noteBudget(flow, rateLimitOf(value));
        slot.done({ kind: 'ok', rateLimit: rateLimitOf(value) });
        reportFlow();
        return value;
      } catch (error) {
        // A bare 503 above the calls in flight recent successes had: a cap, not an outage.
        if (isBare503(error) && slot.overCap()) markCapRefusal(error);
        if (wait.overran || !isThrottle(error) || attemptSignal.aborted) {
          answered = !wait.overran && !isThrottle(error) && !attemptSignal.aborted;
          slot.done({ kind: 'failed' });
          reportFlow();
          throw error;
        }
        // A named wait its test refused is a floor: the wait grows until one is answered.
        const retryAfterMs = refusedWait(flow, error.retryAfterMs, first, performance.now());
        noteBudget(flow, rateLimitOfError(error));
        slot.done({ kind: 'throttled', retryAfterMs, rateLimit: rateLimitOfError(error) });
        reportFlow();
        tally.count++;
        refusal = error;
        if (retryAfterMs !== undefined) namedWaits.set(flow, retryAfterMs);
        // The wait budget is spent, or the believed pause ahead would overrun it: fail now, not
        // later. A doubted Retry-After's probe is not a reason (trial of issue 10: 11 of 60
        // images failed at a doubted 30 s with 8.9 s of a 10 s budget left; the probe was answered).
        // A send due exactly at the end of the budget cannot fit either (the limiter's wait comes after).
        const holdMs = flow.believedHoldMs;
        if (tally.waitMs + holdMs >= budgetMs)
          throw overBudget(tally, budgetMs, error, n, label, { holdMs, budget: budgets.get(flow) });
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
  const unanswered = (error: unknown): never => {
    const made = attemptsOf(error);
    if (!answered && made !== undefined) markAttempts(error, Math.max(0, made - 1));
    throw error;
  };
  const noted = (error: unknown): never => {
    if (provider) noteQuotaRefusal(provider, error, budgetMs);
    throw error;
  };
  const budget = { tally, budgetMs, label };
  return retry(
    (n, retrySignal) => {
      // Until `attempt` runs, nothing was sent: a call the open breaker held to the end is no attempt.
      answered = false;
      return (
        breaker
          ? throughBreaker(breaker, (inner, opened) => attempt(n, inner, opened), {
              ...budget,
              signal: retrySignal,
            })
          : attempt(n, retrySignal)
      ).catch(noted);
    },
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
  ).catch(unanswered);
}

/**
 * One wait of a call to be sent: `since` when it began, `signal` what ends it, `ended()`
 * (idempotent) when it is over, and `overrun(error)` what to throw when it was ended early
 * (the image's --max-retry-wait budget ran out: RATE_LIMITED; else the error itself).
 */
interface Wait {
  since: number;
  /** When the image's budget ends this wait (performance.now() ms): the flow admits the earliest first. Infinity: unbudgeted. */
  deadline: number;
  afterRefusal: boolean;
  signal: AbortSignal;
  /** True once the budget ended the wait. */
  overran: boolean;
  ended(): void;
  overrun(error: unknown): unknown;
}

/** The wait before a call's first send: pacing, bounded only by the call's own signal. */
function pacing(signal: AbortSignal): Wait {
  return {
    since: performance.now(),
    deadline: Number.POSITIVE_INFINITY,
    afterRefusal: false,
    signal,
    overran: false,
    ended() {},
    overrun: (e) => e,
  };
}

/** How often (ms) a wait to send again checks whether the flow's hold still fits the budget. */
const HOLD_CHECK_MS = 50;

const watched = new WeakSet<AdaptiveFlow>();

/** Once per flow: when its breaker closes after a probe, the flow ramps up from one call in flight. */
function recoverAfterOutage(flow: AdaptiveFlow, breaker: ProviderBreaker): void {
  if (watched.has(flow)) return;
  watched.add(flow);
  let wasOpen = false;
  breaker.onStateChange(({ state }) => {
    if (state === 'closed' && wasOpen) flow.recover();
    wasOpen = state !== 'closed';
  });
}

/** The wait the latest refusal through each flow named (ms): what the flow's pause is, when believed. */
const namedWaits = new WeakMap<AdaptiveFlow, number>();
/** The request budget the latest answer through each flow reported: names a used-up budget's reset. */
const budgets = new WeakMap<AdaptiveFlow, ReportedBudget>();

function noteBudget(flow: AdaptiveFlow, snapshot: RateLimitSnapshot | undefined): void {
  if (snapshot?.requests !== undefined)
    budgets.set(flow, { requests: snapshot.requests, at: performance.now() });
}

/**
 * The wait before a call's first send with a flow: pacing, not budgeted, but ended at once
 * when the flow's pause (believed after other calls' 429s; not pacing, nor a doubted wait
 * under test) or a budget its trusted headers report used up holds longer than what the
 * image's --max-retry-wait budget leaves: it would sit the hold out only to be refused
 * with no budget left. Ended too when a quota another image's refusal used up stops the
 * provider (`quotaStop`): the call fails unsent with that QUOTA_EXCEEDED.
 */
function firstSend(
  outer: AbortSignal,
  tally: ThrottleTally,
  budgetMs: number,
  attempt: number,
  label: string,
  flow: AdaptiveFlow,
  quotaStop: () => VisionpipeError | undefined,
): Wait {
  const stop = new AbortController();
  let pauseMs = 0;
  let stopped: VisionpipeError | undefined;
  const over = () => {
    // Another image's refusal used up a quota while this one waited: it fails unsent too.
    stopped = quotaStop();
    if (stopped) {
      stop.abort();
      return true;
    }
    pauseMs = flow.pausedMs;
    if (pauseMs <= budgetMs - tally.waitMs) return false;
    stop.abort();
    return true;
  };
  const check = setInterval(over, HOLD_CHECK_MS);
  check.unref?.();
  over();
  const wait: Wait = {
    since: performance.now(),
    deadline: Number.POSITIVE_INFINITY,
    afterRefusal: false,
    signal: AbortSignal.any([outer, stop.signal]),
    overran: false,
    ended: () => clearInterval(check),
    overrun(error) {
      if (!stop.signal.aborted || outer.aborted) return error;
      wait.overran = true;
      if (stopped) return stopped;
      return notSentOverBudget(
        tally,
        budgetMs,
        namedWaits.get(flow),
        pauseMs,
        attempt,
        label,
        budgets.get(flow),
      );
    },
  };
  return wait;
}

/**
 * The wait to send a refused call again, counted in the image's tally and ended when the
 * image's budget is spent (`leftMs`): the record's `rate_limited.wait_ms` never passes
 * --max-retry-wait. It also ends at once when the flow's believed hold (`holdMs`, ms until it admits
 * anything; lengthened by other images' refusals while this one waits) reaches past the
 * budget: no idle wait for a send that could no longer fit.
 */
function resend(
  outer: AbortSignal,
  tally: ThrottleTally,
  leftMs: number,
  refusal: VisionpipeError,
  attempt: number,
  label: string,
  budgetMs: number,
  holdMs: () => number,
): Wait {
  const since = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), Math.max(0, leftMs));
  let ahead: WaitAhead | undefined;
  const check = setInterval(() => {
    const hold = holdMs();
    if (since + leftMs - performance.now() > hold) return;
    ahead = { holdMs: hold };
    deadline.abort();
  }, HOLD_CHECK_MS);
  check.unref?.();
  let done = false;
  const wait: Wait = {
    since,
    deadline: since + Math.max(0, leftMs),
    afterRefusal: true,
    signal: AbortSignal.any([outer, deadline.signal]),
    overran: false,
    ended() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(check);
      tally.waitMs += Math.min(performance.now() - since, Math.max(0, leftMs));
    },
    overrun(error) {
      if (!deadline.signal.aborted || outer.aborted) return error;
      wait.overran = true;
      return overBudget(tally, budgetMs, refusal, attempt, label, ahead);
    },
  };
  return wait;
}

/** The `rateLimit` snapshot a provider result carries (ExtractResult, AskResult), if any. */
function rateLimitOf(value: unknown): RateLimitSnapshot | undefined {
  if (typeof value !== 'object' || value === null || !('rateLimit' in value)) return undefined;
  return (value as { rateLimit?: RateLimitSnapshot }).rateLimit;
}

function isRateLimited(error: unknown): error is VisionpipeError {
  return isThrottle(error) && (error.code === 'RATE_LIMITED' || error.status === 429);
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
        const error = new VisionpipeError(
          'PROVIDER_TIMEOUT',
          `${label}: no answer within ${formatDuration(timeoutMs)}`,
        );
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
