/**
 * Everything after a cache miss, run once per content key (single-flight's leader): a
 * near-duplicate's result if one applies, else the cascade (triage, extraction within the
 * budget, escalation). The result is saved to the cache before any record is built, so a
 * crash from there on never pays for it again. Failures become an outcome, never a throw.
 */
import { type ClaimStore, claimed } from '../cache/claims.js';
import { toVisionpipeError, VisionpipeError } from '../errors.js';
import { attemptsOf } from '../flow/retry.js';
import type { ThrottleTally } from '../flow/throttle.js';
import type { ResultCacheStage } from './cache-stage.js';
import { runCascade } from './cascade.js';
import type { CascadeConfig } from './cascade-config.js';
import type { FailureMemory } from './failure-memory.js';
import type { NearDuplicateStage } from './near-duplicate-stage.js';
import { cachedResult, type Outcome } from './outcome.js';
import { paidOf } from './paid-calls.js';
import type { LoadedInput } from './stages.js';

export interface CacheMissOptions {
  results: ResultCacheStage;
  near: NearDuplicateStage | undefined;
  cascadeConfig: (signal: AbortSignal | undefined, tally?: ThrottleTally) => CascadeConfig;
  runId: string;
  /** Deterministic failures of earlier runs (handed back) and of this one (stored). */
  failures?: FailureMemory;
  /** Cross-process claims of a shared cache: another process paying for this key is waited for. */
  claims?: ClaimStore | undefined;
  /** Lease of those claims, ms (claims.ts; default 30 s). */
  claimLeaseMs?: number | undefined;
  /**
   * With triage on: the key of the extraction alone (no triage in it), under which
   * extractions are also kept, so adding or dropping triage never pays for them again.
   */
  extractionKey?: ((loaded: LoadedInput) => string) | undefined;
}

/**
 * The outcome of a miss: under a cross-process claim when the cache is shared, so a key
 * another process is already paying for is read from the cache once it is stored.
 */
export async function onCacheMiss(
  options: CacheMissOptions,
  loaded: LoadedInput,
  key: string,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const { claims, results } = options;
  if (!claims) return computeOnMiss(options, loaded, key, signal);
  const got = await claimed(
    claims,
    key,
    // Re-checks of the key identify already looked up: one lookup per input in cache stats.
    () => results.lookup(key, { recheck: true }),
    () => computeOnMiss(options, loaded, key, signal),
    { signal, leaseMs: options.claimLeaseMs },
  );
  return got.kind === 'own' ? got.value : { kind: 'shared', result: got.value };
}

async function computeOnMiss(
  options: CacheMissOptions,
  loaded: LoadedInput,
  key: string,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const tally: ThrottleTally = { count: 0, waitMs: 0 };
  const remembered = await options.failures?.recall(key, loaded.label);
  if (remembered) return remembered;
  const own = ownAbort(signal, loaded.label);
  try {
    return await computeOwned(options, loaded, key, own.signal, tally);
  } finally {
    own.release();
  }
}

/**
 * A signal of this image's own, aborted when `signal` is, with a reason object of its own.
 * What a stop throws is its signal's reason, and the errors of a failed image are marked
 * with what that image paid and sent (paid-calls.ts, retry.ts attempts): one reason shared
 * by every image in flight would carry the last image's marks to all of them (an aborted
 * record naming another input's image, bytes "sent" for an image that never left).
 */
function ownAbort(
  signal: AbortSignal | undefined,
  label: string,
): { signal: AbortSignal | undefined; release: () => void } {
  if (!signal) return { signal, release: () => {} };
  const controller = new AbortController();
  const abort = () =>
    controller.abort(
      new VisionpipeError('ABORTED', `${label}: aborted before the provider answered`, { input: label }),
    );
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  return { signal: controller.signal, release: () => signal.removeEventListener('abort', abort) };
}

async function computeOwned(
  options: CacheMissOptions,
  loaded: LoadedInput,
  key: string,
  signal: AbortSignal | undefined,
  tally: ThrottleTally,
): Promise<Outcome> {
  try {
    const near = await options.near?.match(loaded, key);
    if (near) {
      const original = near.pending ? await near.pending : undefined;
      const result = near.cached ?? (original && original.kind !== 'failed' ? original.result : undefined);
      if (result) return { kind: 'near-dup', result, distance: near.distance };
    }
    const extractionKey = options.extractionKey?.(loaded);
    const config = options.cascadeConfig(signal, tally);
    const done = await runCascade(
      loaded,
      extractionKey === undefined
        ? config
        : { ...config, reuse: () => options.results.lookup(extractionKey) },
    );
    const result = cachedResult(
      loaded,
      options.runId,
      {
        output: done.output,
        model: done.model,
        usage: done.usage,
        cost_usd: done.cost_usd,
        image: done.image,
        profile: done.profile,
        confidence: done.confidence,
        field_confidence: done.fieldConfidence,
      },
      {
        triage: done.triage,
        escalated_from: done.escalatedFrom,
        escalation_reason: done.escalationReason,
        repair: done.repair,
        ...(done.resized ? { resized: done.resized } : {}),
        ...(done.retried ? { retried: done.retried } : {}),
        ...(done.pricedAs ? { priced_as: done.pricedAs } : {}),
      },
    );
    // Saved before the record is even built: a crash from here on never pays again.
    await options.results.save(key, result);
    // A fresh extraction is kept for runs with other triage (or none) too, without the verdict.
    if (extractionKey !== undefined && extractionKey !== key && !done.skipped && !done.reused)
      await options.results.save(extractionKey, { ...result, cascade: { ...result.cascade, triage: null } });
    return {
      kind: 'fresh',
      result,
      attempts: done.attempts,
      skipped: done.skipped,
      reused: done.reused ?? false,
      reason: done.triage?.reason ?? null,
      throttled: tally,
    };
  } catch (error) {
    const failure = signal?.aborted
      ? new VisionpipeError('ABORTED', `${loaded.label}: aborted before the provider answered`, {
          input: loaded.label,
        })
      : toVisionpipeError(error, loaded.label);
    // Calls made before the failure were paid for, and the image was sent: the error record says so.
    const paid = paidOf(error);
    if (!signal?.aborted)
      await options.failures?.remember(key, failure, paid?.image ?? null, loaded.label, {
        ...(paid?.output === undefined ? {} : { output: paid.output }),
        ...(paid?.raw === undefined ? {} : { raw: paid.raw }),
      });
    return {
      kind: 'failed',
      error: failure,
      image: paid?.image ?? null,
      attempts: attemptsOf(error) ?? 0,
      paid,
      throttled: tally,
    };
  }
}
