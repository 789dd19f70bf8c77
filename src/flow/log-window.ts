/**
 * Learning a sliding log's window from the answers themselves (issue 10, sliding-log cells).
 *
 * A sliding log admits a call while fewer than `limit` calls were admitted in the last
 * `window` ms, and reports `remaining` = limit − (calls in its log). Its reset header is
 * only the oldest call's expiry rounded up to whole seconds, too coarse to pace by. But
 * every success tells more: its budget counted exactly the latest `limit − remaining`
 * admitted sends up to this one, so the send just older than those had already left the
 * window — the window is at most the time between that send and this one. The tightest
 * of many such bounds is the window (ms); emulating the log with it (each call waits
 * until the limit-th latest counted send has left the window) sends as fast as the log
 * allows and no faster.
 *
 * Send times are the client's, admissions the server's: calls reach it a few ms late and
 * out of order, so the learned window gets a margin, doubled by each refusal the
 * emulated log did not foresee (`widen`).
 *
 * All times are ms on the flow's clock. The gating (headers trusted, not a fixed window,
 * one process on the budget) is the caller's: this class only learns and emulates.
 */

/** The flow's record of its sends, read (never written) by the learner. */
export interface SendHistory {
  /** Send times of the latest calls (ring, all outcomes): `sent[i]` is the send of sequence `lastSeq() − (sent.length − 1 − i)`. */
  readonly sent: readonly number[];
  /** Sequence of the latest send. */
  lastSeq(): number;
  /** True when the call of that sequence was refused (a sliding log does not count it). */
  refused(seq: number): boolean;
}

/** The budget of an answer, as far as the log needs it. */
export interface LogBudgetReport {
  limit?: number | undefined;
  remaining?: number | undefined;
}

/** Bounds kept (ring). */
const RECENT = 64;
/** Added to a learned sliding-log window at first: send times are the client's, admissions the server's. */
const LOG_MARGIN_MS = 25;
/** The most a sliding log's refusals raise that margin to. */
const LOG_MARGIN_MAX_MS = 200;
/** Bounds on a sliding log's window (one per answer) before they are believed: the start-up burst's, sent at once, bound nothing. */
const LOG_BOUNDS = 16;
/** Shorter learned windows (ms, margin aside) are not believed: noise of a burst, not a log. */
const LOG_MIN_WINDOW_MS = 50;

export class LogWindowLearner {
  /**
   * Upper bounds on a sliding log's window (ms), one per trusted answer: the send just
   * older than the oldest call the reported budget still counts had left the window.
   */
  private readonly bounds: number[] = [];
  /** Added to the learned window (ms); doubles with each refusal the log did not foresee. */
  private margin = LOG_MARGIN_MS;
  /** Send sequence when the margin was last raised: refusals of calls sent before it are that event's echo. */
  private raisedAt = 0;

  constructor(private readonly history: SendHistory) {}

  /**
   * A success of send `seq` (sent at `sentAt`) reporting `remaining` of `limit`: the
   * server's log then held limit − remaining calls, the latest counted sends up to this
   * one. The send just older than those had left the window, so the window is at most the
   * time since it (one bound, ms).
   */
  bound(report: LogBudgetReport | undefined, seq: number, sentAt: number): void {
    if (report?.limit === undefined || report.remaining === undefined) return;
    const counted = report.limit - report.remaining;
    if (counted < 1) return;
    const { sent } = this.history;
    const last = this.history.lastSeq();
    let found = 0;
    for (let i = sent.length - 1 - (last - seq); i >= 0; i--) {
      const at = sent[i]!;
      if (this.history.refused(last - (sent.length - 1 - i))) continue;
      if (found === counted) {
        this.bounds.push(sentAt - at);
        if (this.bounds.length > RECENT) this.bounds.shift();
        return;
      }
      found++;
    }
  }

  /** The tightest bound of recent answers on the log's window (ms), once there are enough of them. */
  bounded(): number | undefined {
    return this.bounds.length < LOG_BOUNDS ? undefined : Math.min(...this.bounds);
  }

  /** The window to emulate (ms, margin included), once learned and believable. */
  window(): number | undefined {
    const bound = this.bounded();
    if (bound === undefined) return undefined;
    const window = bound + this.margin;
    return window >= LOG_MIN_WINDOW_MS + this.margin ? window : undefined;
  }

  /**
   * The log, emulated: when the next call fits (flow clock, ms), once the limit-th latest
   * counted send has left the learned window; 0 when fewer than `limit` were sent.
   * Undefined when no window was learned.
   */
  hold(limit: number | undefined): number | undefined {
    const window = this.window();
    if (window === undefined || limit === undefined) return undefined;
    const { sent } = this.history;
    const seq = this.history.lastSeq();
    let found = 0;
    for (let i = sent.length - 1; i >= 0; i--) {
      if (this.history.refused(seq - (sent.length - 1 - i))) continue;
      if (++found === limit) return sent[i]! + window + 1;
    }
    return 0;
  }

  /**
   * A refusal of send `seq` the emulated log did not foresee: the window learned was short
   * by the jitter between send times and admissions. The margin doubles, once per event
   * (refusals of calls sent before the last raise are its echo).
   */
  widen(seq: number): void {
    if (seq <= this.raisedAt) return;
    this.margin = Math.min(LOG_MARGIN_MAX_MS, this.margin * 2);
    this.raisedAt = this.history.lastSeq();
  }
}
