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
  /** Until the oldest counted call leaves the window (ms); used only when in whole seconds (IETF RateLimit-Reset). */
  resetMs?: number | undefined;
  /** The reset was a moment, read at the answer, not a duration from the send. */
  resetAt?: true | undefined;
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
/**
 * The window is taken as the LOG_QUANTILE-th tightest bound, not the tightest: one call
 * admitted late (a stalled event loop, 40-140 ms over loopback HTTP) bounds the window
 * that much short, and the tightest of 64 is the worst such stall.
 */
const LOG_QUANTILE = 3;
/**
 * A bound this far (ms) below what a whole-second reset shows the window is at least was
 * made by calls reaching the server out of order (the start-up burst, before anything left
 * the log: a 2 s log learned as 0.5 s over HTTP), not by the window: it is dropped. Twice
 * the arrival jitter a busy loopback shows.
 */
const LOG_REORDER_MS = 200;
/**
 * The floor those bounds are held to is the LOG_FLOOR_QUANTILE-th highest, not the highest:
 * calls released together after a pause reach the server in any order, and one the others
 * overtook shows a floor a whole pause too high (2.46 s on a 2 s log, fake clock, 1-61 ms).
 */
const LOG_FLOOR_QUANTILE = 5;
/**
 * Limits' worth of successes without a refusal the log did not foresee after which its
 * margin halves (down to LOG_MARGIN_MS): a margin doubled by one event stayed for the run.
 * Over HTTP the start-up's new connections reach the server up to 0.3 s late under load;
 * their replay one window later was refused five times and the margin, 200 ms from then on,
 * cost a tenth of every later window (traced bench c10: 50 calls per 2.2 s on a 2 s log).
 */
const LOG_CALM_LIMITS = 2;
/** Sends the emulated log lets go at once at its own rate after a late one (see `spaced`). */
const LOG_SPACED_BURST = 4;
/**
 * The spacing's interval, as a share of the log's (window / limit): a little faster, so the
 * log's room binds and the spacing only spreads a bunch. At the log's own interval the
 * spacing bound every send and timer lateness added up (bench: 23/s on a 25/s log).
 */
const LOG_SPACED_PACE = 0.8;

export class LogWindowLearner {
  /**
   * Upper bounds on a sliding log's window (ms), one per trusted answer: the send just
   * older than the oldest call the reported budget still counts had left the window.
   */
  private readonly bounds: number[] = [];
  /**
   * Lower bounds on the window (ms), one per answer with a whole-second reset: the oldest
   * call it counts leaves the window more than `reset − 1 s` after the answered send.
   */
  private readonly floors: number[] = [];
  /** Added to the learned window (ms); doubles with each refusal the log did not foresee, halves after calm (LOG_CALM_LIMITS). */
  private margin = LOG_MARGIN_MS;
  /** Send sequence when the margin was last raised: refusals of calls sent before it are that event's echo. */
  private raisedAt = 0;
  /** Successes since the margin last changed: LOG_CALM_LIMITS limits of them halve it. */
  private calm = 0;

  constructor(private readonly history: SendHistory) {}

  /**
   * A success of send `seq` (sent at `sentAt`) reporting `remaining` of `limit`: the
   * server's log then held limit − remaining calls, the latest counted sends up to this
   * one. The send just older than those had left the window, so the window is at most the
   * time since it (one bound, ms).
   */
  bound(report: LogBudgetReport | undefined, seq: number, sentAt: number): void {
    if (report?.limit === undefined || report.remaining === undefined) return;
    if (++this.calm >= LOG_CALM_LIMITS * report.limit && this.margin > LOG_MARGIN_MS) {
      this.margin = Math.max(LOG_MARGIN_MS, this.margin / 2);
      this.calm = 0;
    }
    const counted = report.limit - report.remaining;
    if (counted < 1) return;
    const { sent } = this.history;
    const last = this.history.lastSeq();
    // A whole-second reset counts from the oldest call in the log (the counted-th latest send):
    // it leaves the window between reset − 1 s and reset after this send (a ceiling and a floor).
    const reset =
      !report.resetAt && report.resetMs !== undefined && report.resetMs > 0 && report.resetMs % 1000 === 0;
    let found = 0;
    for (let i = sent.length - 1 - (last - seq); i >= 0; i--) {
      const at = sent[i]!;
      if (this.history.refused(last - (sent.length - 1 - i))) continue;
      if (found === counted) {
        this.push(this.bounds, sentAt - at);
        return;
      }
      found++;
      if (found === counted && reset) {
        this.push(this.bounds, sentAt - at + report.resetMs!);
        this.push(this.floors, sentAt - at + report.resetMs! - 1000);
      }
    }
  }

  private push(ring: number[], value: number): void {
    ring.push(value);
    if (ring.length > RECENT) ring.shift();
  }

  /**
   * The tightest bounds of recent answers on the log's window (ms), once there are enough of
   * them: the LOG_QUANTILE-th, leaving out those the whole-second resets show were made out of order.
   */
  bounded(): number | undefined {
    const floors = [...this.floors].sort((a, b) => b - a);
    const floor = floors[Math.min(floors.length, LOG_FLOOR_QUANTILE) - 1] ?? Number.NEGATIVE_INFINITY;
    const believed = this.bounds.filter((b) => b >= floor - LOG_REORDER_MS).sort((a, b) => a - b);
    if (believed.length < LOG_BOUNDS) return undefined;
    return believed[Math.min(believed.length, LOG_QUANTILE) - 1];
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
   * counted send has left the learned window, and spaced at about window / limit after the
   * latest sends (see `spaced`). Sends bunched in one millisecond (a burst, the calls a pause held) reach the
   * server one after another as its event loop reads them, up to 0.2 s apart over loopback
   * HTTP under load: replayed one window later as the same bunch, the later ones met the
   * log still holding their predecessors (16 refused in 0.1 s, bench c50). Spaced a little
   * faster than the log's own rate they are not, and the log allows no more over time. 0 when nothing holds.
   * Undefined when no window was learned.
   */
  hold(limit: number | undefined): number | undefined {
    const window = this.window();
    if (window === undefined || limit === undefined) return undefined;
    const { sent } = this.history;
    const seq = this.history.lastSeq();
    const spaced = this.spaced((LOG_SPACED_PACE * window) / limit);
    let found = 0;
    for (let i = sent.length - 1; i >= 0; i--) {
      if (this.history.refused(seq - (sent.length - 1 - i))) continue;
      if (++found === limit) return Math.max(spaced, sent[i]! + window + 1);
    }
    return spaced;
  }

  /**
   * The earliest send `interval` ms apart on average allows (flow clock, ms): no more than
   * LOG_SPACED_BURST sends in that many intervals, none closer than half of one. Each send
   * strictly one interval after the last would add every timer's lateness (5-10 ms under
   * load) to the interval: 21-23/s on a 25/s log (bench).
   */
  private spaced(interval: number): number {
    const { sent } = this.history;
    if (sent.length === 0) return 0;
    const last = sent[sent.length - 1]! + interval / 2;
    const burst = Math.min(sent.length, LOG_SPACED_BURST);
    return Math.max(last, sent[sent.length - burst]! + burst * interval);
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
    this.calm = 0;
  }
}
