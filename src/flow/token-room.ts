/**
 * A provider's token budget, from its headers, holding admission of a call whose
 * estimated tokens do not fit (flow/adaptive.ts). A per-minute token limit binds long
 * before the request limit when images are large (Anthropic ITPM 60 000 at ~1 700 tokens
 * an image is 35 calls a minute), and a request budget says nothing about it: the trial
 * of issue 10 met 17 % refusals, mostly its largest images, at 0.99 of the token ceiling.
 *
 * Both providers refill continuously: Anthropic "uses the token bucket algorithm … your
 * capacity is continuously replenished up to your maximum limit", and
 * `anthropic-ratelimit-input-tokens-reset` / `-tokens-reset` is the RFC 3339 moment the
 * bucket is full again (docs.claude.com/en/api/rate-limits, "Response headers"); OpenAI's
 * `x-ratelimit-reset-tokens` is the duration until the budget "resets to its initial state"
 * (platform.openai.com/docs/guides/rate-limits, "Rate limits in headers"). So the room at a
 * moment t after the header is remaining + (limit − remaining) × (t − at) / reset, at most
 * the limit, less what the calls sent since the header are estimated to take.
 *
 * Headers are evidence: remaining above the limit makes this budget ignored from then on.
 */
import type { RateLimitBudget } from '../providers/spec.js';

/** Refill (tokens/ms) assumed when the header shows a full budget: the limits are per minute. */
const PER_MINUTE_MS = 60_000;

/** Sends remembered before the first reading (a server that never sends token headers). */
const MAX_UNREAD = 1024;

interface Reading {
  limit: number;
  remaining: number;
  resetMs: number;
  /** When resetMs counts from (flow clock). */
  at: number;
  /** Send sequence of the call the header answered. */
  seq: number;
}

export class TokenRoom {
  private reading: Reading | undefined;
  private trusted = true;
  /** Estimated tokens of the calls sent since the reading, by send sequence; refused calls dropped. */
  private readonly sent = new Map<number, number>();

  /** False once the token headers were caught inconsistent (remaining above the limit). */
  get isTrusted(): boolean {
    return this.trusted;
  }

  /** A call `seq` was sent counting `tokens` (its estimate; 0: unknown, nothing held). */
  sentCall(seq: number, tokens: number): void {
    if (tokens <= 0) return;
    this.sent.set(seq, tokens);
    // A server without token headers: a reading never clears what was sent.
    if (this.reading === undefined && this.sent.size > MAX_UNREAD)
      this.sent.delete(this.sent.keys().next().value!);
  }

  /** A refused call took nothing from the budget. */
  refused(seq: number): void {
    this.sent.delete(seq);
  }

  /**
   * The token budget an answer to call `seq` reported, its reset counted from `at` (flow
   * clock). An older answer than the one read, or one without limit/remaining/reset, is ignored.
   */
  read(budget: RateLimitBudget | undefined, seq: number, at: number): void {
    if (!this.trusted || budget?.remaining === undefined || budget.limit === undefined) return;
    if (budget.resetMs === undefined || budget.limit <= 0) return;
    if (budget.remaining > budget.limit) {
      this.trusted = false;
      this.reading = undefined;
      return;
    }
    if (this.reading && this.reading.seq > seq) return;
    this.reading = { limit: budget.limit, remaining: budget.remaining, resetMs: budget.resetMs, at, seq };
    for (const sent of this.sent.keys()) if (sent <= seq) this.sent.delete(sent);
  }

  /** Tokens the budget holds at `now` (flow clock) by the reading, less the calls sent since × `peers`; undefined: no reading. */
  room(now: number, peers = 1): number | undefined {
    const reading = this.reading;
    if (reading === undefined || !this.trusted) return undefined;
    const level = Math.min(
      reading.limit,
      reading.remaining + refill(reading) * Math.max(0, now - reading.at),
    );
    let since = 0;
    for (const tokens of this.sent.values()) since += tokens;
    return level - since * peers;
  }

  /**
   * The earliest moment (flow clock) a call estimated at `tokens` fits, or 0 when it fits
   * now or nothing is known. A call over the whole limit waits for a full budget only.
   * `peers`: processes on the same budget (their calls since the reading are counted as
   * this one's times `peers`, and room is wanted for each one's next call).
   */
  holdUntil(tokens: number, now: number, peers = 1): number {
    const reading = this.reading;
    const room = this.room(now, peers);
    if (reading === undefined || room === undefined || tokens <= 0) return 0;
    // Shared by `peers` processes reading the same headers, each would take the same room at
    // once: each waits for room for every process's next call (trial of issue 10, two
    // processes on one input-token budget: 9.5 % refused while both ran).
    const need = Math.min(tokens * Math.max(1, peers), reading.limit);
    if (room >= need) return 0;
    return now + (need - room) / refill(reading);
  }

  /** The refusal's own token headers (or the room before it) say call `seq` of `tokens` did not fit. */
  explains(budget: RateLimitBudget | undefined, tokens: number, now: number, peers = 1): boolean {
    if (!this.trusted || tokens <= 0) return false;
    if (budget?.remaining !== undefined && budget.remaining < tokens) return true;
    const room = this.room(now, peers);
    return room !== undefined && room < 0;
  }
}

/** Tokens per ms the budget refills: what is missing over the time until full, or a full budget's limit per minute. */
function refill({ limit, remaining, resetMs }: Reading): number {
  return limit > remaining && resetMs > 0 ? (limit - remaining) / resetMs : limit / PER_MINUTE_MS;
}
