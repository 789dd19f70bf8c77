/**
 * Whether a server refuses calls sent closer together than some spacing, however few are
 * in flight: nginx `limit_req` with no burst (and gateways built like it) admits one call
 * every 1/rate s and answers anything closer to the last call it admitted with a bare 429
 * that it does not count. Such a server tolerates no burst: the flow must pace its calls
 * evenly, and its refusals say nothing about the calls in flight (read as a concurrency
 * cap, they cut a 12/s bucket's calls in flight to 2-4 and the flow ran at 0.17-0.46 of
 * it, issue 10's trial).
 *
 * The evidence, from send times only (the flow's clock). A server that tolerates a burst
 * (token bucket, window, log, concurrency cap) takes calls sent together — slow start
 * sends several at once — so two accepted calls sent closer than `CLOSE_MS` show it at
 * once. (Measured between accepted calls, not from each to the send before it: of two
 * calls sent in the same millisecond the second may arrive first and be the one taken.)
 * A strict spacing shows no such pair among the first `MIN_ACCEPTED` accepted calls,
 * while its bare refusals came closer to the send before them than any two accepted
 * calls did. A refusal that names a wait or carries a budget is
 * another shape: such a flow never reads its server as strict.
 */

/** Two sends closer than this (ms) that the server both took show it tolerates a burst. */
const CLOSE_MS = 20;
/** Accepted calls seen before the server is judged to tolerate no burst. */
const MIN_ACCEPTED = 3;
/**
 * Bare refusals, closer to the call before them than `CLOSER` × the closest accepted gap,
 * that show it. Over HTTP on a loaded machine slow start's calls go out as their images
 * are ready, tens of ms apart, and a cap of 5 took them with 3-4 such refusals among them
 * (read as strict, its rate was paced: test/flow/adaptive.test.ts failed 2 runs in 3).
 */
const MIN_CLOSE_REFUSALS = 5;
const CLOSER = 0.7;
/** Gaps kept for calls not settled yet (a ring by sequence). */
const KEPT = 1024;

/** Learns from send gaps whether the server refuses any burst (see the module's comment). */
export class SpacingLearner {
  private lastSentAt: number | undefined;
  /** Gap (ms) of each unsettled call to the send before it, by sequence. */
  private readonly gaps = new Map<number, number>();
  private accepted = 0;
  /** Accepted calls closer than CLOSE_MS to the send before them. */
  private closeAccepted = 0;
  /** The closest gap (ms) between two accepted calls' sends. */
  private closestAccepted = Number.POSITIVE_INFINITY;
  /** Send times of recent accepted calls, in order (a bounded, sorted ring). */
  private readonly acceptedAt: number[] = [];
  /** Gaps (ms) of bare refusals, to compare with the closest accepted gap once known. */
  private readonly refusedGaps: number[] = [];
  /** A refusal named a wait or carried a budget: not this shape. */
  private other = false;

  /** True once the server is seen to refuse any burst: calls must go evenly spaced. */
  get strict(): boolean {
    if (this.other || this.accepted < MIN_ACCEPTED || this.closeAccepted > 1) return false;
    const closer = this.refusedGaps.filter((gap) => gap < CLOSER * this.closestAccepted).length;
    return closer >= MIN_CLOSE_REFUSALS;
  }

  /** The closest gap (ms) between two accepted calls' sends (Infinity: none yet). */
  get closestAcceptedGap(): number {
    return this.closestAccepted;
  }

  /** Call `seq` was sent at `at` (flow clock, ms). */
  sent(seq: number, at: number): void {
    this.gaps.set(seq, this.lastSentAt === undefined ? Number.POSITIVE_INFINITY : at - this.lastSentAt);
    this.lastSentAt = at;
    if (this.gaps.size > KEPT) this.gaps.delete(this.gaps.keys().next().value!);
  }

  /**
   * Call `seq` ended: `ok` taken, `throttled` refused (`bare`: no wait named, no budget),
   * `failed` (a 5xx or a reset may come before the limit: says nothing). `sentAt` is its
   * send time (flow clock, ms).
   */
  settled(seq: number, kind: 'ok' | 'throttled' | 'failed', bare: boolean, sentAt: number): void {
    const gap = this.gaps.get(seq);
    this.gaps.delete(seq);
    if (gap === undefined) return;
    if (kind === 'throttled') {
      if (!bare) this.other = true;
      else if (this.refusedGaps.length < 64) this.refusedGaps.push(gap);
      return;
    }
    if (kind === 'failed') return;
    this.accepted++;
    // Answers settle out of send order: the accepted send times are kept sorted.
    let at = this.acceptedAt.length;
    while (at > 0 && this.acceptedAt[at - 1]! > sentAt) at--;
    const closest = Math.min(
      at > 0 ? sentAt - this.acceptedAt[at - 1]! : Number.POSITIVE_INFINITY,
      at < this.acceptedAt.length ? this.acceptedAt[at]! - sentAt : Number.POSITIVE_INFINITY,
    );
    this.acceptedAt.splice(at, 0, sentAt);
    if (this.acceptedAt.length > KEPT) this.acceptedAt.shift();
    if (closest < CLOSE_MS) this.closeAccepted++;
    this.closestAccepted = Math.min(this.closestAccepted, closest);
  }
}
