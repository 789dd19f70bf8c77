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
 * - After a plateau of creeping with no throttle, and while the rate is in use, growth
 *   accelerates again from 3 % a second (the convex region after CUBIC's plateau): a limit
 *   that rose is found in seconds. Creeping for good, a token bucket going from 3/s to 20/s
 *   was used at 3.5-4.5/s 6-10 s after the rise (test/flow/rising-rate.test.ts).
 * - The plateau is `PLATEAU_MS` at first and doubles (to `MAX_PLATEAU_MS`) each time such a
 *   probe draws a throttle, since the limit stayed put: a bucket's burst hides a creep past
 *   its refill for seconds, and probing every 2 s there doubled the refusals of a steady
 *   25/s bucket. A probe that doubles the rate without a throttle found a limit that rose:
 *   the plateau is short again, and the probe goes on from there. A throttle ends a probe,
 *   the rate back where it started (or last doubled).
 */

/** Share of the rate the server took at the last cut from which growth creeps instead of accelerating. */
export const CREEP_FROM = 0.95;
/** How long growth creeps near the last cut, with no throttle, before it accelerates again at first (ms). */
export const PLATEAU_MS = 2000;
/** The longest plateau, after probes that kept drawing throttles (ms). */
const MAX_PLATEAU_MS = 16_000;
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
  now: number;
}

/** The growth clock of one flow's rate. */
export class RateGrowth {
  private plateauMs = PLATEAU_MS;
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
      if (input.used && creeping > this.plateauMs) {
        since = creeping - this.plateauMs;
        // Doubled without a throttle: the limit rose; the next probe goes from here.
        if (this.probeFrom !== undefined && input.rate >= 2 * this.probeFrom) {
          this.plateauMs = PLATEAU_MS;
          this.probeFrom = undefined;
        }
        this.probeFrom ??= input.rate;
      }
    }
    return Math.min(1, input.rateGrowth * 2 ** Math.min(Math.max(0, since) / 1000, MAX_DOUBLINGS));
  }

  /**
   * A throttle (or a cut another process shared): the plateau starts over. A probe under
   * way failed: returns the rate it started from, which the server took all plateau long
   * (the rate goes back to it at once: cut only from what the server took during the
   * probe, a bucket's burst drained by it, the rate stayed above the refill and drew two
   * more refusals).
   */
  throttled(): number | undefined {
    const from = this.probeFrom;
    if (from !== undefined) this.plateauMs = Math.min(MAX_PLATEAU_MS, this.plateauMs * 2);
    this.probeFrom = undefined;
    this.plateauFrom = undefined;
    return from;
  }
}
