/**
 * Learned limits shared by the processes on one provider budget (several `visionpipe
 * run` processes or queue workers on one API key), so they do not each learn the limit
 * alone and storm it together. The Redis limiter keeps them in a hash beside its
 * buckets (lua/flow.lua): the rate and calls in flight that all processes together may
 * use, a pause, and a heartbeat set that counts the processes. Each adaptive flow takes
 * its share (the totals over the peer count); one process's throttle cuts the totals
 * atomically, at most once per cut window (per limit) however many processes saw it, and pauses
 * everyone; growth is written back only when no cut came in between. A cut's total is
 * measured, not guessed: every process reports what the server took from it lately, and
 * the cut scales the sum of those reports.
 *
 * Reads are cached and refreshed in the background (at most every `refreshMs`), so a
 * flow's admission never waits on Redis; when Redis is away the flow just runs on what
 * it learned itself.
 */
import type { Redis } from 'ioredis';
import { monotonicNow } from './clock.js';

/** The shared totals as last read. */
export interface SharedLimits {
  /** Calls per second all processes together may send (undefined: not learned yet). */
  rate: number | undefined;
  /** Calls in flight all processes together may have (undefined: not learned yet). */
  concurrency: number | undefined;
  /** Bumped by every cut: a flow adopts a version it has not seen. */
  version: number;
  /** Until when (flow clock, ms) no process should admit a call. */
  pausedUntil: number;
  /** Processes with a recent heartbeat, this one included (≥ 1). */
  peers: number;
  /** The latest cut was this process's own. */
  ownCut: boolean;
  /**
   * This process's cuts the shared limits took as echoes of another process's cut (the
   * same event, within the cut window): each one, the flow goes back to its share.
   */
  echoes: number;
}

/** A cut or a raise proposed by one flow, in totals for all processes. */
export interface SharedProposal {
  rate?: number | undefined;
  concurrency?: number | undefined;
  /**
   * A cut of the rate: the factor this flow cut its own rate by, from `taken`. The shared
   * total becomes that factor times what the server took from all processes together
   * (each one's latest `taken`), not `rate`, which assumes every process took as much as
   * this one.
   */
  factor?: number | undefined;
  /** Calls per second the server took from this process lately (what `factor` applies to). */
  taken?: number | undefined;
}

export interface FlowShare {
  /**
   * The latest shared limits known (undefined before the first answer); refreshes in the
   * background, reporting `taken()` (calls per second the server took from this process
   * lately) when it does.
   */
  read(taken?: () => number | undefined): SharedLimits | undefined;
  /**
   * A throttle: lower the totals to the proposal and pause everyone `pauseMs`; a cut
   * within the cut window of another is the same event and changes no limit.
   */
  cut(proposal: SharedProposal, pauseMs: number): void;
  /** Growth: raise the totals to the proposal, unless a cut came after `version`. */
  raise(proposal: SharedProposal, version: number): void;
  /** This process is done with the budget: the others take its share at their next read. */
  leave(): Promise<void>;
}

export interface RedisFlowShareOptions {
  /** The connected client, or undefined while Redis is away (the share then does nothing). */
  client: () => Promise<(Redis & { visionpipeFlow: FlowCommand }) | undefined>;
  /** The learned hash and the peers set. */
  keys: readonly [learned: string, peers: string];
  /** This process's heartbeat id. */
  id: string;
  /** How often the cached read is refreshed at most (default 250 ms). */
  refreshMs?: number;
  /** A cut this soon after another is the same event (default 1000 ms). */
  cutWindowMs?: number;
  /** A process counts as a peer while its heartbeat is this recent (default 5000 ms). */
  peerWindowMs?: number;
  /** How long the learned hash outlives its last use (default 10 min). */
  ttlMs?: number;
  /**
   * The clock the script judges windows by, epoch ms (tests on a fake clock; default Redis
   * server time, so skewed client clocks do not matter).
   */
  serverNow?: () => number;
}

export type FlowCommand = (...keysThenArgs: (string | number)[]) => Promise<string[]>;

export const FLOW_SHARE_DEFAULTS = {
  refreshMs: 250,
  cutWindowMs: 1000,
  peerWindowMs: 5000,
  ttlMs: 600_000,
} as const;

export class RedisFlowShare implements FlowShare {
  private readonly options: RedisFlowShareOptions;
  private latest: SharedLimits | undefined;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading = false;
  private echoes = 0;

  constructor(options: RedisFlowShareOptions) {
    this.options = options;
  }

  read(taken?: () => number | undefined): SharedLimits | undefined {
    const now = monotonicNow();
    if (!this.reading && now - this.readAt >= (this.options.refreshMs ?? FLOW_SHARE_DEFAULTS.refreshMs)) {
      this.readAt = now;
      this.reading = true;
      void this.call('read', { taken: taken?.() }, 0).finally(() => {
        this.reading = false;
      });
    }
    return this.latest;
  }

  cut(proposal: SharedProposal, pauseMs: number): void {
    void this.call('cut', proposal, Math.max(0, Math.ceil(pauseMs)));
  }

  raise(proposal: SharedProposal, version: number): void {
    void this.call('raise', proposal, version);
  }

  async leave(): Promise<void> {
    await this.call('leave', {}, 0);
  }

  private async call(
    op: 'read' | 'cut' | 'raise' | 'leave',
    proposal: SharedProposal,
    fifth: number,
  ): Promise<void> {
    const client = await this.options.client().catch(() => undefined);
    if (client === undefined) return;
    const sentAt = monotonicNow();
    const reply = await client
      .visionpipeFlow(
        ...this.options.keys,
        op,
        this.options.id,
        finite(proposal.rate),
        finite(proposal.concurrency),
        fifth,
        this.options.cutWindowMs ?? FLOW_SHARE_DEFAULTS.cutWindowMs,
        this.options.peerWindowMs ?? FLOW_SHARE_DEFAULTS.peerWindowMs,
        this.options.ttlMs ?? FLOW_SHARE_DEFAULTS.ttlMs,
        finite(proposal.taken),
        finite(proposal.factor),
        this.options.serverNow?.() ?? '',
      )
      .catch(() => undefined);
    if (reply === undefined) return;
    const [rate, concurrency, version, pauseMs, peers, applied, cutBy] = reply;
    const proposed = proposal.rate !== undefined || proposal.concurrency !== undefined;
    if (op === 'cut' && proposed && applied === '0') this.echoes++;
    const parsed: SharedLimits = {
      rate: rate === '' || rate === undefined ? undefined : Number(rate),
      concurrency: concurrency === '' || concurrency === undefined ? undefined : Number(concurrency),
      version: Number(version),
      pausedUntil: sentAt + Number(pauseMs),
      peers: Math.max(1, Number(peers) || 1),
      ownCut: cutBy === this.options.id,
      echoes: this.echoes,
    };
    // Replies can overtake each other: never go back to an older version.
    if (this.latest === undefined || parsed.version >= this.latest.version) this.latest = parsed;
  }
}

function finite(value: number | undefined): string | number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : '';
}
