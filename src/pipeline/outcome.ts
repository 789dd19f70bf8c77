/**
 * What one content key produced: a fresh result, a near-duplicate's borrowed one, or a
 * failure. Single-flight shares it with every concurrent duplicate of that content, and
 * each turns it into its own record (record-assembly.ts).
 */
import type { VisionpipeError } from '../errors.js';
import type { ThrottleTally } from '../flow/throttle.js';
import type { CachedResult } from './cache-stage.js';
import type { Paid } from './paid-calls.js';
import type { CascadeInfo, RunRecord } from './record.js';
import type { LoadedInput } from './stages.js';

export type Outcome =
  | {
      kind: 'fresh';
      result: CachedResult;
      attempts: number;
      skipped: boolean;
      /** Triage passed and the extraction was one already paid for: only triage ran (if anything). */
      reused?: boolean;
      reason: string | null;
      /** The rate-limit waits of the call(s) that made it (record `rate_limited`). */
      throttled?: ThrottleTally;
    }
  | { kind: 'near-dup'; result: CachedResult; distance: number }
  /** Another process holding the claim on this key stored it while this one waited (claims.ts). */
  | { kind: 'shared'; result: CachedResult }
  | {
      kind: 'failed';
      error: VisionpipeError;
      image: RunRecord['image'];
      attempts: number;
      paid: Paid | undefined;
      throttled?: ThrottleTally;
      /** A deterministic failure of an earlier run handed back for nothing (failure-memory.ts). */
      remembered?: boolean;
    };

/** The answer parts of a result; the rest comes from the input and the run. */
export type AnswerParts = Pick<
  CachedResult,
  'output' | 'model' | 'usage' | 'cost_usd' | 'image' | 'profile' | 'confidence' | 'field_confidence'
>;

/** The cache entry of an answer to `loaded`, made by run `runId` now. */
export function cachedResult(
  loaded: LoadedInput,
  runId: string,
  parts: AnswerParts,
  cascade: CascadeInfo,
): CachedResult {
  return {
    ...parts,
    input: loaded.label,
    sha256: loaded.sha256,
    run_id: runId,
    created_at: Date.now(),
    cascade,
  };
}

/**
 * A provider's per-field confidence (keyed by JSON pointer, `/vendor_name`) keyed the way
 * records show it: the field's path without the leading slash (`vendor_name`,
 * `address/city`); null when the provider gives none.
 */
export function fieldPaths(byPointer: Record<string, number> | undefined): Record<string, number> | null {
  if (byPointer === undefined) return null;
  const out: Record<string, number> = {};
  for (const [pointer, value] of Object.entries(byPointer)) out[pointer.replace(/^\//, '')] = value;
  return out;
}
