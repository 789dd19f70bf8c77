/**
 * Record assembly: the one JSONL record of each input (record.ts) from what happened to it:
 * a cache hit, a duplicate or near-duplicate that borrowed another input's result, the
 * leader's fresh result or failure, or an input that could not be read. Only the leader of
 * a content key reports the calls and money spent; its duplicates report none.
 */

import { toVisionpipeError } from '../errors.js';
import type { ThrottleTally } from '../flow/throttle.js';
import type { InputItem } from '../runs/inputs.js';
import type { CachedResult } from './cache-stage.js';
import type { Outcome } from './outcome.js';
import { rawOutputText } from './raw-output.js';
import {
  EMPTY_USAGE,
  errorRecord,
  NO_CASCADE,
  NO_RATE_LIMITS,
  type RunRecord,
  withWarnings,
} from './record.js';
import { refusedBeforeCall } from './refusal.js';

export interface RecordContext {
  /** The pattern's name. */
  pattern: string;
  /** The main provider's id and model. */
  provider: string;
  model: string;
  /** The size profile of the main model, for error records. */
  profile: string;
}

/** Where and when one input's record is made: `leader` is the input that ran for its content key. */
export interface RecordAt {
  label: string;
  /** performance.now() when the input started. */
  started: number;
  sha256: string;
  leader: boolean;
  /** The input's bytes as read: what a refused input's record says (`input_bytes`). */
  bytes: number;
}

export class RecordAssembler {
  private readonly base: { pattern: string; provider: string; model: string };

  constructor(private readonly context: RecordContext) {
    this.base = { pattern: context.pattern, provider: context.provider, model: context.model };
  }

  /** A result this input did not pay for: from the cache, a duplicate or a near-duplicate. */
  hit(
    label: string,
    started: number,
    result: CachedResult,
    kind: 'hit' | 'dedup' | 'near-dup',
    distance = 0,
    // A near-duplicate's own content: it is not the original's, whose result it borrows.
    sha256 = result.sha256,
  ): RunRecord {
    return withWarnings({
      input: label,
      pattern: this.context.pattern,
      sha256,
      status: result.output === null && result.cascade.triage?.relevant === false ? 'skipped' : 'ok',
      output: result.output,
      error: null,
      cache: kind,
      provider: this.context.provider,
      model: result.model,
      latency_ms: Math.round(performance.now() - started),
      attempts: 0,
      rate_limited: { ...NO_RATE_LIMITS },
      image: result.image,
      usage: { ...EMPTY_USAGE },
      cost_usd: 0,
      profile: result.profile,
      confidence: result.confidence,
      ...(result.field_confidence ? { field_confidence: result.field_confidence } : {}),
      reason: result.cascade.triage?.relevant === false ? result.cascade.triage.reason : null,
      duplicate_of: kind === 'hit' ? null : { input: result.input, sha256: result.sha256, distance },
      // Entries cached before a field was added get it with its empty value.
      cascade: { ...NO_CASCADE, ...result.cascade },
      raw_output: null,
    });
  }

  /** The record of one input from its content key's outcome (shared by duplicates). */
  of(outcome: Outcome, at: RecordAt): RunRecord {
    const { label, started, sha256, leader } = at;
    if (outcome.kind === 'failed') {
      // Not an image at all: no lookup worth counting (the reader takes it back from the stats).
      const refused = refusedBeforeCall(outcome.error.code, outcome.attempts);
      return withWarnings(
        errorRecord({ input: label, ...this.base }, outcome.error.toJSON(), {
          sha256,
          latency_ms: Math.round(performance.now() - started),
          attempts: leader ? outcome.attempts : 0,
          rate_limited: leader ? rateLimited(outcome.throttled) : { ...NO_RATE_LIMITS },
          image: outcome.image,
          ...(leader && outcome.paid ? { usage: outcome.paid.usage, cost_usd: outcome.paid.cost } : {}),
          // What was answered and parsed, to debug the failure without paying for it again.
          output: outcome.paid?.output ?? null,
          raw_output: rawOutputText(outcome.paid?.raw ?? outcome.error.raw),
          ...(leader && outcome.paid?.cascade ? { cascade: { ...NO_CASCADE, ...outcome.paid.cascade } } : {}),
          profile: this.context.profile,
          cache: refused ? null : outcome.remembered ? 'hit' : leader ? 'miss' : 'dedup',
          ...(refused ? { input_bytes: at.bytes } : {}),
        }),
      );
    }
    if (outcome.kind === 'shared') return this.hit(label, started, outcome.result, 'hit');
    if (outcome.kind === 'near-dup')
      return this.hit(label, started, outcome.result, 'near-dup', outcome.distance, sha256);
    if (!leader) return this.hit(label, started, outcome.result, 'dedup');
    const { result } = outcome;
    return withWarnings({
      input: label,
      pattern: this.context.pattern,
      sha256,
      status: outcome.skipped ? 'skipped' : 'ok',
      output: result.output,
      error: null,
      // An extraction already paid for, reused once triage passed: a hit, paying only for triage.
      cache: outcome.reused ? 'hit' : 'miss',
      provider: this.context.provider,
      model: result.model,
      latency_ms: Math.round(performance.now() - started),
      attempts: outcome.attempts,
      rate_limited: rateLimited(outcome.throttled),
      image: result.image,
      usage: result.usage,
      cost_usd: result.cost_usd,
      profile: result.profile,
      confidence: result.confidence,
      ...(result.field_confidence ? { field_confidence: result.field_confidence } : {}),
      reason: outcome.skipped ? outcome.reason : null,
      duplicate_of: null,
      cascade: result.cascade,
      raw_output: null,
    });
  }

  /** An input that failed before its content was known (unreadable, too large, blocked URL). */
  inputError(error: unknown, label: string, started: number, bytes: number | null = null): RunRecord {
    return errorRecord({ input: label, ...this.base }, toVisionpipeError(error, label).toJSON(), {
      latency_ms: Math.round(performance.now() - started),
      profile: this.context.profile,
      input_bytes: bytes,
    });
  }

  /** An input the input stream could not expand (no such file, bad glob): its size is not known. */
  itemError(item: InputItem & { kind: 'error' }): RunRecord {
    return errorRecord({ input: item.label, ...this.base }, item.error.toJSON(), { input_bytes: null });
  }
}

/** The record's `rate_limited` from an image's tally. */
function rateLimited(tally: ThrottleTally | undefined): RunRecord['rate_limited'] {
  return tally ? { count: tally.count, wait_ms: Math.round(tally.waitMs) } : { ...NO_RATE_LIMITS };
}
