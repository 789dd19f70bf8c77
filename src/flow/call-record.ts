/**
 * The flow's record of its recent calls (issue 10): when each was sent, which the server
 * took or refused, and when each ended, and the rates measured from it (calls/s, on the
 * flow's clock in ms). Rings, so a long run keeps a bounded memory. The flow reads it to
 * cut its rate (`sustainedRate`), to read a concurrency cap off its successes (`served`),
 * and to report its take to the processes it shares a budget with (`takenRate`); the
 * sliding-log learner reads it as its `SendHistory`.
 */
import type { SendHistory } from './log-window.js';

/** Send times kept: enough for one budget of a provider's window. */
const SENT = 512;
/** Refused sequences kept: a sliding log does not count them. */
const REFUSED = 64;
/** Answers read this soon after a send (ms, at most a quarter of the call's latency) may have left the server before it. */
const TRANSIT_MS = 25;
/** Shortest time after the first refusal over which the sustained rate is measured (ms). */
const SUSTAINED_MIN_MS = 200;

/** Refusals this far apart (ms) start a new episode of refusals. */
const EPISODE_GAP_MS = 2000;

/** How a call ended, as far as the record needs it. */
export type RecordedOutcome = 'ok' | 'throttled' | 'failed';

export class CallRecord implements SendHistory {
  /** Send times of the latest calls (ring, all outcomes), to measure what a budget let through. */
  readonly sent: number[] = [];
  /** Sequences of recent refused calls: a sliding log does not count them. */
  private readonly refusedSeqs = new Set<number>();
  /** Recent settled calls (ring, all outcomes): which calls counted in flight at a send were answered right after it. */
  private readonly settledCalls: Array<{ seq: number; at: number }> = [];
  /** Send times of recent accepted calls (ring of `SENT`: two seconds at 256/s), to measure the accepted rate. */
  private readonly accepted: number[] = [];
  /** Calls sent and not yet settled: sequence → send time (flow clock). */
  private readonly unsettled = new Map<number, number>();
  /** Send time of the first refused call (not one the budget headers explained): the burst before it is spent. */
  firstRefusedAt: number | undefined;
  /**
   * Send time of the first refusal after `EPISODE_GAP_MS` without one: where the server's
   * limit last showed itself (a burst spent, or a limit that fell).
   */
  episodeFrom: number | undefined;
  /** When the latest refusal was answered (ms). */
  private lastRefusalAt = Number.NEGATIVE_INFINITY;

  /** @param lastSeq the flow's latest send sequence */
  constructor(readonly lastSeq: () => number) {}

  /** Calls sent and not yet settled. */
  get outstanding(): number {
    return this.unsettled.size;
  }

  /** True when a call sent before call `seq`, at `sentBy` (ms) or earlier, is not settled yet (the server still holds it). */
  outstandingBefore(seq: number, sentBy: number): boolean {
    const oldest = this.unsettled.entries().next();
    return !oldest.done && oldest.value[0] < seq && oldest.value[1] <= sentBy;
  }

  /** True when the call of that sequence was refused (among the latest `REFUSED` refusals). */
  refused(seq: number): boolean {
    return this.refusedSeqs.has(seq);
  }

  /** Call `seq` was sent at `at` (ms). */
  sentCall(seq: number, at: number): void {
    this.sent.push(at);
    if (this.sent.length > SENT) this.sent.shift();
    this.unsettled.set(seq, at);
  }

  /**
   * Call `seq` made its first HTTP request at `at` (ms): its send time from then on. A run's
   * first calls are admitted hundreds of ms before their requests leave (the first image's
   * preparation, 0.47 s traced over loopback), and a sliding log counts them from their arrival.
   */
  restamp(seq: number, at: number): void {
    const index = this.sent.length - 1 - (this.lastSeq() - seq);
    if (index < 0 || !this.unsettled.has(seq)) return;
    this.sent[index] = at;
    this.unsettled.set(seq, at);
  }

  /** Call `seq`, sent at `sentAt`, ended at `at` (ms, in order of time) with `outcome`. */
  settledCall(seq: number, at: number, outcome: RecordedOutcome, sentAt: number): void {
    this.settledCalls.push({ seq, at });
    if (this.settledCalls.length > SENT) this.settledCalls.shift();
    this.unsettled.delete(seq);
    if (outcome === 'throttled') {
      if (at - this.lastRefusalAt > EPISODE_GAP_MS) this.episodeFrom = sentAt;
      this.lastRefusalAt = at;
      this.refusedSeqs.add(seq);
      if (this.refusedSeqs.size > REFUSED) this.refusedSeqs.delete(this.refusedSeqs.values().next().value!);
    }
    if (outcome === 'ok') {
      this.accepted.push(sentAt);
      if (this.accepted.length > SENT) this.accepted.shift();
    }
  }

  /**
   * The calls a success shows the server held at once: the client's in-flight count at its
   * send, less the calls counted there whose answers arrived within the transit allowance
   * after it. The client counts a call from before its request leaves until it has read the
   * answer, the server only while it works on it: an answer read right after the send was
   * most likely written before the request arrived (in transit, or waiting for a busy event
   * loop). Counted, such answers made a concurrency cap's successes show 9–12 in flight on a
   * server capped at 8, and the next refusal one call above the cap read as a rate limit
   * (bench: rate cut to ~0.8 of a cap's ceiling). The allowance (`TRANSIT_MS`, at most a
   * quarter of this call's latency) is small beside a call's latency, so a rate limit's
   * successes keep showing how many calls it took at once.
   */
  served(seq: number, inFlight: number, sentAt: number, now: number): number {
    const allowance = Math.min(TRANSIT_MS, (now - sentAt) / 4);
    let transit = 0;
    for (let i = this.settledCalls.length - 1; i >= 0; i--) {
      const other = this.settledCalls[i]!;
      if (other.at <= sentAt) break; // settled in order: the rest were answered before the send
      if (other.seq < seq && other.at <= sentAt + allowance) transit++;
    }
    return Math.max(1, inFlight - transit);
  }

  /** Calls sent per second over the last two seconds (undefined with too few). */
  sentRate(now: number): number | undefined {
    let count = 0;
    let first = now;
    for (let i = this.sent.length - 1; i >= 0 && now - this.sent[i]! <= 2000; i--) {
      count++;
      first = this.sent[i]!;
    }
    if (count < 4) return undefined;
    return (count / Math.max(500, now - first)) * 1000;
  }

  /**
   * Calls per second the server takes once its start-up burst is spent: the calls sent
   * after the first refusal (or in the last two seconds, when that is longer ago) that it
   * took — answered with a success, or not answered yet — over that time. A refusal comes
   * back at once and a success after the call's whole latency: counted only once
   * accepted, the calls of the last latency were left out and the first cut came out at
   * 15/s on a 25/s bucket. Undefined before the first refusal, over less than
   * `SUSTAINED_MIN_MS` or with fewer than 4 calls.
   */
  sustainedRate(now: number): number | undefined {
    if (this.firstRefusedAt === undefined) return undefined;
    const since = Math.max(this.firstRefusedAt, now - 2000);
    const span = now - since;
    if (span < SUSTAINED_MIN_MS) return undefined;
    // Strictly after `since`: the refused send itself is where the bucket was empty.
    let count = 0;
    for (const at of this.accepted) if (at > since) count++;
    for (const at of this.unsettled.values()) if (at > since) count++;
    if (count < 4) return undefined;
    return (count / span) * 1000;
  }

  /** Accepted calls per second over the recent ring (undefined with too few). */
  acceptedRate(now: number): number | undefined {
    const times = this.accepted.filter((t) => now - t <= 2000);
    if (times.length < 4) return undefined;
    const span = Math.max(500, now - Math.min(...times));
    return (times.length / span) * 1000;
  }

  /** Calls per second the server took from this flow lately (reported to the share). */
  takenRate(now: number): number | undefined {
    const sustained = this.sustainedRate(now);
    if (sustained !== undefined || this.firstRefusedAt === undefined)
      return sustained ?? this.acceptedRate(now);
    // Just after the group's first refusal, too few calls for the sustained rate: the ones
    // taken since, over at least half a second. The accepted rate of the last two seconds
    // counts the start-up burst: three such reports put the group's first shared rate at
    // 2.5 times a 25/s bucket's.
    const since = this.firstRefusedAt;
    let count = 0;
    for (const at of this.accepted) if (at > since) count++;
    for (const at of this.unsettled.values()) if (at > since) count++;
    return (count / Math.max(500, now - since)) * 1000;
  }
}
