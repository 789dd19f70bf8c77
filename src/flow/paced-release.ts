/**
 * The calls a pause held, released paced while no rate is learned (AdaptiveFlow.pauseUntil):
 * unpaced, they would all go at the pause's end, into a budget that refilled for the pause's
 * length only. What the pause refilled at the rate the provider was seen to accept goes at
 * once (a concurrency cap's freed slots, about as many); the rest at that rate, which then
 * doubles every `DOUBLING_MS` until, `DOUBLINGS` doublings on, the calls go unpaced.
 *
 * A ramp, not a cliff: paced for one second and then unpaced, the calls in flight jumped at
 * that second's end from what the pace kept out (the rate the server took × the latency) to
 * the whole concurrency limit, in one burst that a rate limit refused whole before the
 * first refusal came back (HTTP bench, no-headers and lying-headers at 50 at a time: 6 and
 * 11 calls sent within 20 ms at the release's end, all refused; fake clock: up to 12).
 * Doubling, the pace passes the server's rate a call or two at a time, and the first
 * refusal past it sets a rate (or the concurrency limit, for a cap, binds first).
 */

/** How long the pace holds before it doubles (ms). */
const DOUBLING_MS = 1000;
/** Doublings of the pace before the calls go unpaced (8 × the rate seen: a window binds long before). */
const DOUBLINGS = 3;

export class PacedRelease {
  /** Calls per second the server was seen to accept at the pause. */
  private pace = Number.POSITIVE_INFINITY;
  /** When the pause ends (flow clock, ms): the ramp starts there. */
  private from = Number.NEGATIVE_INFINITY;
  /** Sends after the pause that go unspaced: what the pause refilled at `pace`. */
  private credit = 0;

  /**
   * A pause from `now` until `until` (ms) while the provider was seen to accept `seen`
   * calls per second: the calls it holds go out paced from its end.
   */
  start(now: number, until: number, seen: number): void {
    this.pace = seen;
    this.from = until;
    this.credit = Math.ceil(((until - now) * seen) / 1000);
  }

  /** Ms the next call waits after one sent at `now` (0: unpaced). */
  gapMs(now: number): number {
    const since = now - this.from;
    if (since >= DOUBLINGS * DOUBLING_MS || this.credit-- > 0) return 0;
    return 1000 / (this.pace * 2 ** (Math.max(0, since) / DOUBLING_MS));
  }
}
