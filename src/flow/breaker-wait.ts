/**
 * A call that finds its provider's circuit breaker open waits for it instead of spending
 * one of its error attempts (trial 10g of issue 10: refused at once with CIRCUIT_OPEN, each
 * refusal cost an attempt, so a long outage failed images and sooner probes failed more:
 * 15 s outage, 5 of 100 lost; 40 s, 10). It waits until the breaker may send a probe (the
 * first waiter to wake is that probe) or until another call's probe is answered, then
 * goes through; the flow ramps the calls back up after the probe closes the circuit
 * (call-policy's `recoverAfterOutage`), so the held calls do not all go at once.
 *
 * The wait is spent from the image's --max-retry-wait budget like a rate-limit wait
 * (`tally.waitMs`, the record's `rate_limited.wait_ms`; `tally.outageMs` keeps its own
 * share). The image fails with CIRCUIT_OPEN, naming the outage and the time it waited,
 * when the budget is spent, when the next probe is due after the budget ends, or at once
 * when the outage has already lasted a whole budget (so a long outage does not hold every
 * later image for its own budget in turn); a rerun redoes them.
 */
import { VisionpipeError } from '../errors.js';
import type { ProviderBreaker } from './circuit-breaker.js';
import { seconds } from './over-budget.js';
import type { ThrottleTally } from './throttle.js';

export interface BreakerWaitOptions {
  /** The call's signal: aborting it ends the wait with its reason. */
  signal: AbortSignal;
  /** The image's waits, shared by all its calls: the breaker's waits are added to `waitMs` and `outageMs`. */
  tally: ThrottleTally;
  /** The image's wait budget (ms, --max-retry-wait). */
  budgetMs: number;
  /** Names the call in the error (e.g. `openai gpt-4o: receipt.jpg`). */
  label: string;
}

/**
 * Thrown by a call that went through the circuit closed and was still waiting for the flow
 * when it opened (`run`'s `opened()`): it goes back to wait for the breaker, unsent. Sent,
 * such calls spent an attempt each on the outage one after another through the open circuit.
 */
export class HeldByBreaker extends Error {
  constructor() {
    super('the circuit breaker opened while the call waited to be sent');
    this.name = 'HeldByBreaker';
  }
}

/** Shortest wait on an open circuit (ms): its probe time came but it still refused (clock skew), no busy loop. */
const RECHECK_MS = 10;

/**
 * Runs `run` through `breaker`; while the circuit is open or its probe is out, waits
 * (within the image's budget) without calling `run`; `run` throws HeldByBreaker to come
 * back to that wait unsent when `opened()` says the circuit opened after it went in. Rejects with CIRCUIT_OPEN (not
 * retryable) when the budget cannot cover the outage; `run`'s own failures pass through.
 */
export async function throughBreaker<T>(
  breaker: ProviderBreaker,
  run: (signal: AbortSignal, opened: () => boolean) => Promise<T>,
  options: BreakerWaitOptions,
): Promise<T> {
  const { signal, tally, budgetMs } = options;
  for (;;) {
    if (signal.aborted) throw signal.reason;
    // Closed, or open with its probe due: this call goes (as the probe when open). Never
    // while half-open: cockatiel holds such a caller for the probe's whole answer, unbudgeted.
    if (breaker.state === 'closed' || (breaker.state === 'open' && breaker.retryAfterMs === 0)) {
      let ran = false;
      // A call let through a closed circuit that is not closed any more (a probe goes through an open one).
      const entered = breaker.state;
      const opened = () => entered === 'closed' && breaker.state !== 'closed';
      try {
        return await breaker.execute((inner) => {
          ran = true;
          return run(inner, opened);
        }, signal);
      } catch (error) {
        const refused = !ran && error instanceof VisionpipeError && error.code === 'CIRCUIT_OPEN';
        if (!refused && !(error instanceof HeldByBreaker)) throw error;
      }
    }
    const leftMs = budgetMs - tally.waitMs;
    const probeInMs = breaker.state === 'open' ? breaker.retryAfterMs : 0;
    const over = overBudget(breaker, leftMs, probeInMs, budgetMs);
    if (over) throw outageError(breaker, tally, over, options.label);
    // Open: until its probe is due. Half-open (or held open by hand): until it changes.
    const waitMs = Math.min(leftMs, breaker.state === 'open' ? Math.max(RECHECK_MS, probeInMs) : leftMs);
    const since = Date.now();
    try {
      await changeOrTimeout(breaker, waitMs, signal);
    } finally {
      const waited = Math.min(Math.max(0, Date.now() - since), leftMs);
      tally.waitMs += waited;
      tally.outageMs = (tally.outageMs ?? 0) + waited;
    }
  }
}

/** Why the image cannot wait for the provider any longer, or undefined while it can. */
function overBudget(
  breaker: ProviderBreaker,
  leftMs: number,
  probeInMs: number,
  budgetMs: number,
): string | undefined {
  const budget = `--max-retry-wait (${seconds(budgetMs)} for one image)`;
  if (leftMs <= 0) return `${budget} is spent`;
  if (breaker.outageMs >= budgetMs)
    return `the outage has lasted longer than ${budget}, so the image fails now rather than wait`;
  if (probeInMs > leftMs)
    return `the next probe is due in ${seconds(probeInMs)}, after what ${budget} leaves (${seconds(leftMs)}), so the image fails now rather than wait`;
  return undefined;
}

/** CIRCUIT_OPEN for an image the outage outlasted: how long the provider has failed, what it said, how long this image waited. */
function outageError(
  breaker: ProviderBreaker,
  tally: ThrottleTally,
  why: string,
  label: string,
): VisionpipeError {
  const last = breaker.lastFailure;
  const said = last instanceof Error ? ` (last failure: ${last.message})` : '';
  const message =
    `${label}: not sent, ${breaker.providerId} is down: an outage, the circuit breaker open for ` +
    `${seconds(breaker.outageMs)}${said}; this image waited ${seconds(tally.outageMs ?? 0)} for it, and ${why}; ` +
    'run the same command again to redo it';
  return new VisionpipeError('CIRCUIT_OPEN', message, { retryable: false, cause: last });
}

/** Resolves when the breaker changes state or after `ms`; rejects with the signal's reason on abort. */
function changeOrTimeout(breaker: ProviderBreaker, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      listener.dispose();
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      finish();
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      finish();
      resolve();
    }, ms);
    const listener = breaker.onStateChange(() => {
      finish();
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
