/**
 * How fast a paced rate grows while pacing is what holds calls back (AdaptiveFlow.grow):
 * a share of itself per second, CUBIC's shape without its cube.
 *
 * - After a cut, growth doubles each second since the cut (3 %, 6 %, 12 %, … a second, at
 *   most 100 %): a cut that went too deep recovers in seconds.
 * - Near the rate the server took when it last refused (`CREEP_FROM` of it), growth starts
 *   over and creeps (the concave region before CUBIC's plateau): accelerating past it, the
 *   rate was back above a token bucket's refill within 2-3 s of each cut and refused again
 *   (fake clock, 600 calls at 25/s: 10 refusals after the first second; creeping, 4).
 * - After `PLATEAU_MS` of creeping with no throttle, and while the rate is in use, growth
 *   accelerates again from 3 % a second (the convex region after CUBIC's plateau): a limit
 *   that rose is found in seconds. Creeping for good, a token bucket going from 3/s to 20/s
 *   was used at 3.5-4.5/s 6-10 s after the rise (test/flow/rising-rate.test.ts).
 * - A throttle ends such a probe with the rate back where it started (or where it last
 *   doubled without a throttle while the server took 1.5 × the start: a limit that
 *   rose). A bucket's burst hides a creep past its refill for seconds, and the probe overshot it by half before the first refusal; cut
 *   only from what the server took, the rate stayed above the refill and drew more
 *   refusals (a steady 25/s bucket: 4 after the first second before, 9 so; back to the
 *   probe's start, 4). A plateau that doubled after each failed probe changed nothing
 *   measurable (steady 3, 8, 25/s over two minutes), so it stays 2 s.
 */

/** Share of the rate the server took at the last cut from which growth creeps instead of accelerating. */
export const CREEP_FROM = 0.95;
/** How long growth creeps near the last cut, with no throttle, before it accelerates again (ms). */
export const PLATEAU_MS = 2000;
/** What the server must have taken, over the probe's start, for a doubled rate to count as a limit that rose. */
const CONFIRMS = 1.5;
/** Doublings of the growth share at most (3 % × 2⁶ caps at 100 % a second). */
const MAX_DOUBLINGS = 6;

export interface GrowthInput {
  /** Share of itself the rate grows per second at first (`rateGrowth`, default 0.03). */
  rateGrowth: number;
  rate: number;
  /** The rate the server took at the last cut (Infinity: none, or the budget headers hold it). */
  cutFrom: number;
  /** Time since the rate was last cut (ms). */
  sinceCutMs: number;
  /** The rate is in use (accepted calls lately show it): a plateau's end may accelerate. */
  used: boolean;
  /** Calls per second the server accepted lately (undefined: too few to tell). */
  seen?: number | undefined;
  now: number;
}

/** The growth clock of one flow's rate. */
export class RateGrowth {
  /** When growth reached the creep region with no throttle since (the plateau's start). */
  private plateauFrom: number | undefined;
  /** The rate when growth accelerated past the plateau (a probe under way). */
  private probeFrom: number | undefined;

  /** Share of itself the rate grows per second now. */
  perSecond(input: GrowthInput): number {
    let since = input.sinceCutMs;
    if (input.rate >= input.cutFrom * CREEP_FROM) {
      this.plateauFrom ??= input.now;
      const creeping = input.now - this.plateauFrom;
      since = 0;
      if (input.used && creeping > PLATEAU_MS) {
        since = creeping - PLATEAU_MS;
        // Doubled without a throttle while the server took at least `CONFIRMS` × the probe's
        // start: the limit rose; a throttle from here comes back here. A bucket's burst, banked
        // while the rate crept below its refill, hides a doubled rate for a second: back to
        // that, the probe's refusal left the rate at 45/s on a 25/s bucket and drew 5-7 more
        // (fake clock, bare bucket, c50; a 20/s bucket falling to 6/s: 10 refusals, not 5).
        const from = this.probeFrom;
        const took = from !== undefined && (input.seen ?? 0) >= CONFIRMS * from;
        if (from === undefined || (input.rate >= 2 * from && took)) this.probeFrom = input.rate;
      }
    }
    return Math.min(1, input.rateGrowth * 2 ** Math.min(Math.max(0, since) / 1000, MAX_DOUBLINGS));
  }

  /**
   * A throttle (or a cut another process shared): the plateau starts over. A probe under
   * way failed: returns the rate it started from (or last doubled), which the server took.
   */
  throttled(): number | undefined {
    const from = this.probeFrom;
    this.probeFrom = undefined;
    this.plateauFrom = undefined;
    return from;
  }
}
