/**
 * What a run is waiting on, for the progress line. The flow publishes every call it will
 * send again (observe/events.ts `retry`), with the pause ahead and whether the provider
 * refused it for its rate limit, and where every call is (`callState`: waiting to be sent,
 * sending, done) with how long it waited for a slot or token (the flow's pacing, the
 * --rpm/--tpm limiter, the pause after a 429).
 *
 * - While a known pause lasts, the line says why (`waiting 12 s: rate limited by provider
 *   openai (Retry-After)`) instead of sitting still with a climbing ETA.
 * - While every call waits to be sent and none is on the wire for a second or more, the
 *   line says so (`all 6 calls waiting on the rate limit for 4 s (pacing: --rpm/--tpm, flow)`).
 * - The waits so far: `rate limit: held 12 s, calls waited 3m12s in all, 31 × 429, 4 retries`.
 *
 * Two figures, one definition everywhere (this line, the summary's text and `--json`,
 * docs/flow-control.md "Time waiting on the rate limit"):
 * - **held** (`rate_limited.held_ms`): wall-clock time during which at least one call was
 *   held back by the rate limit (waiting to be sent: pacing, the --rpm/--tpm limiter, the
 *   pause after a 429). It is at most the run's wall time.
 * - **calls waited** (`wait_ms` + `paced_ms`): the waits of every call added up; with 8
 *   calls held together for 10 s it is 80 s, so it can exceed the run's wall time. On the
 *   line it counts the waits still under way too (the time each waiting call has waited so
 *   far), so it is never below `held`: while calls sit out a 24 s Retry-After the line
 *   reads `held 24 s, calls waited 1m36s`, not `calls waited 2 ms` (issue 13).
 *
 * The summary's summed figures come from the records (runs/summary.ts), plus the pacing
 * waits before first sends, which no record holds (`onPaced`); `held` from here (`heldMs`).
 */
import { type CallStateEvent, type RetryEvent, refusedForRate, subscribe } from '../observe/events.js';
import { formatDuration } from './format.js';

export interface WaitWatchOptions {
  /** Called once when a pause of at least `announceMs` starts while none was under way. */
  onWait?: (status: string) => void;
  /** Shortest pause worth a line of its own, ms (default 1000). */
  announceMs?: number;
  /** Called for every failed call sent again (not a rate-limit refusal). */
  onRetry?: () => void;
  /** Called with the wait of a call before its first send (pacing), ms. */
  onPaced?: (ms: number) => void;
  /** Clock in ms (default performance.now). */
  now?: () => number;
}

/** How long every call must have waited before the line says so, ms. */
const ALL_WAITING_MS = 1000;

export class WaitWatch {
  private holdUntil = 0;
  private reason = '';
  private readonly now: () => number;
  private readonly offs: Array<() => void>;
  private waiting = 0;
  private waitingAfterRefusal = 0;
  private sending = 0;
  /** Since when every call waits and none is sent (undefined: some call is on the wire, or none waits). */
  private allWaitingSince: number | undefined;
  private waitedMs = 0;
  /** ∫ (calls waiting) dt so far, ms: every call's time waiting, finished waits and open ones. */
  private waitingIntegralMs = 0;
  private integralAt: number | undefined;
  /** Wall time with at least one call waiting: closed stretches, and since when the open one runs. */
  private heldMs = 0;
  private heldSince: number | undefined;
  private refused = 0;
  private retries = 0;

  constructor(private readonly options: WaitWatchOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.offs = [
      subscribe('retry', (event) => this.seen(event)),
      subscribe('callState', (event) => this.moved(event)),
      // Every call refused for the rate (not for quota), the last one of an image that gave up included.
      subscribe('attempt', (event) => {
        if (refusedForRate(event) || (!event.ok && event.status === 529)) this.refused++;
      }),
    ];
  }

  /**
   * What the run waits on now, shown in place of the ETA: a known pause (`waiting 12 s:
   * <why>`, `, all N calls held` when nothing is on the wire), or every call waiting to be
   * sent for a second or more; else undefined.
   */
  status(): string | undefined {
    const now = this.now();
    const all =
      this.allWaitingSince !== undefined && this.waiting > 0 ? now - this.allWaitingSince : undefined;
    const left = this.holdUntil - now;
    if (left > 0) {
      const held = all !== undefined ? `, ${this.everyCall()} held` : '';
      return `waiting ${Math.max(1, Math.ceil(left / 1000))} s: ${this.reason}${held}`;
    }
    if (all === undefined || all < ALL_WAITING_MS) return undefined;
    const why = this.waitingAfterRefusal > 0 ? 'after 429/overloaded answers' : 'pacing: --rpm/--tpm, flow';
    return `${this.everyCall()} waiting on the rate limit for ${Math.floor(all / 1000)} s (${why})`;
  }

  /** The waits so far (`rate limit: waited 12 s, 31 × 429, 4 retries`), or undefined while there were none worth saying. */
  totals(): string | undefined {
    if (this.refused === 0 && this.retries === 0 && this.callsWaited() < ALL_WAITING_MS) return undefined;
    return `rate limit: held ${formatDuration(this.held())}, calls waited ${formatDuration(this.callsWaited())} in all, ${this.refused} × 429, ${this.retries} ${this.retries === 1 ? 'retry' : 'retries'}`;
  }

  /**
   * ms every call has waited so far, waits under way included: the waits the flow reported
   * for calls that left the queue, or the time calls spent waiting as seen here when that
   * is more (it counts the open waits). At least `held()`.
   */
  callsWaited(): number {
    const now = this.now();
    const open = this.integralAt === undefined ? 0 : this.waiting * (now - this.integralAt);
    return Math.max(this.waitedMs, this.waitingIntegralMs + open);
  }

  /** Wall-clock ms so far during which at least one call was held by the rate limit. */
  held(): number {
    return this.heldMs + (this.heldSince === undefined ? 0 : this.now() - this.heldSince);
  }

  close(): void {
    for (const off of this.offs) off();
  }

  /** "the 1 call" or "all 3 calls": every call of the run, waiting. */
  private everyCall(): string {
    return this.waiting === 1 ? 'the 1 call' : `all ${this.waiting} calls`;
  }

  private moved(event: CallStateEvent): void {
    const at = this.now();
    if (this.integralAt !== undefined) this.waitingIntegralMs += this.waiting * (at - this.integralAt);
    this.integralAt = at;
    const from = event.phase === 'done' ? event.from : event.phase === 'sending' ? 'waiting' : undefined;
    if (from === 'waiting') {
      this.waiting = Math.max(0, this.waiting - 1);
      if (event.afterRefusal) this.waitingAfterRefusal = Math.max(0, this.waitingAfterRefusal - 1);
      const waited = event.waitedMs ?? 0;
      this.waitedMs += waited;
      if (!event.afterRefusal && waited > 0) this.options.onPaced?.(waited);
    } else if (from === 'sending') this.sending = Math.max(0, this.sending - 1);
    if (event.phase === 'waiting') {
      this.waiting++;
      if (event.afterRefusal) this.waitingAfterRefusal++;
    } else if (event.phase === 'sending') this.sending++;
    if (this.waiting > 0) this.heldSince ??= this.now();
    else if (this.heldSince !== undefined) {
      this.heldMs += this.now() - this.heldSince;
      this.heldSince = undefined;
    }
    const allWaiting = this.waiting > 0 && this.sending === 0;
    if (!allWaiting) this.allWaitingSince = undefined;
    else this.allWaitingSince ??= this.now();
  }

  private seen(event: RetryEvent): void {
    if (!event.throttled) {
      this.retries++;
      this.options.onRetry?.();
    }
    const now = this.now();
    const until = now + event.delayMs;
    const idle = this.holdUntil <= now;
    if (until <= this.holdUntil) return;
    this.holdUntil = until;
    this.reason = describe(event);
    if (idle && event.delayMs >= (this.options.announceMs ?? 1000)) {
      const status = this.status();
      if (status) this.options.onWait?.(status);
    }
  }
}

/** Why a call waits, in the words a user reads in the progress line. */
export function describe(event: RetryEvent): string {
  if (!event.throttled) return `retrying ${event.provider} after ${event.code}`;
  const what = event.code === 'RATE_LIMITED' ? 'rate limited' : `throttled (${event.code})`;
  const source = event.retryAfterMs === undefined ? 'no Retry-After, backing off' : 'Retry-After';
  return `${what} by provider ${event.provider} (${source})`;
}
