/**
 * One loaded image (an image, a page, or a document's first page carrying the others) taken
 * as far as the provider call for a batch API: result cache (pages), single flight,
 * near-duplicates, triage, sizing within the provider's limits. What comes out is the
 * request to put in a batch, registered as waiting for its answer under a custom id derived
 * from the content key (a resumed run finds the same request in the same batch), or none
 * when the outcome needs no call.
 */
import { createHash } from 'node:crypto';
import type { CacheSetup } from '../cache/open-cache.js';
import type { SingleFlight } from '../cache/single-flight.js';
import { toVisionpipeError } from '../errors.js';
import type { Pattern } from '../patterns/types.js';
import type { BatchRequest } from '../providers/batch/spec.js';
import type { Provider, Usage } from '../providers/spec.js';
import { type BatchWaiting, triageOnly } from './batch-answers.js';
import type { ResultCacheStage } from './cache-stage.js';
import type { CascadeConfig, ModelChoice, TriageVerdict } from './cascade-config.js';
import type { NearDuplicateStage } from './near-duplicate-stage.js';
import { cachedResult, type Outcome } from './outcome.js';
import { imageInfo, preparedPages, sizedFor } from './prepared-images.js';
import { preparedWithinLimits } from './provider-limits.js';
import { EMPTY_USAGE, type RunRecord } from './record.js';
import type { RecordAssembler } from './record-assembly.js';
import { type LoadedInput, providerImage } from './stages.js';
import { runTriage } from './triage.js';

/** What queueing an image for a batch needs from the pipeline. */
export interface BatchRequestSettings {
  pattern: Pattern;
  provider: Provider;
  model: string;
  primary: ModelChoice;
  cache: CacheSetup;
  results: ResultCacheStage;
  records: RecordAssembler;
  flights: SingleFlight<Outcome>;
  near: NearDuplicateStage | undefined;
  cascadeConfig: (signal: AbortSignal | undefined) => CascadeConfig;
  runId: string;
}

/** An image queued for a batch: the request to submit (when this one leads), and its record to come. */
export interface QueuedImage {
  request?: BatchRequest;
  record: Promise<RunRecord>;
  /** The outcome needs no call (cache hit, triage skip, failure before the call). */
  known: boolean;
}

/** A batch custom id (`^[a-zA-Z0-9_-]{1,64}$`) that is the same in every run for the same content and settings. */
const customIdOf = (key: string) => `vp-${createHash('sha256').update(key).digest('hex').slice(0, 48)}`;

/**
 * Resolves once it is known whether the image needs a call: with the request to put in a
 * batch (this call leads the image's single flight; the request waits in `waiting` under
 * its custom id), or with none (`known`: the outcome needs no call; else it follows another
 * request in flight, a duplicate or a near-duplicate). `lookup`: check the result cache
 * first (pages; an input's own key was checked when it was identified).
 */
export async function queueForBatch(
  settings: BatchRequestSettings,
  waiting: Map<string, BatchWaiting>,
  image: { loaded: LoadedInput; key: string; label: string; started: number },
  signal: AbortSignal | undefined,
  lookup: boolean,
): Promise<QueuedImage> {
  const { loaded, key, label, started } = image;
  const { flights, near: nearStage, cascadeConfig, results, records, runId } = settings;
  const { primary, provider, model, pattern, cache } = settings;
  if (lookup) {
    const hit = await results.lookup(key);
    if (hit) {
      const record = records.hit(label, started, hit, hit.run_id === runId ? 'dedup' : 'hit');
      return { record: Promise.resolve(record), known: true };
    }
  }
  // What the runner waits for: a request to submit, nothing (the outcome is known), or
  // 'follow' (a near-duplicate whose original is itself waiting for its batch result).
  let announce: (request: BatchRequest | undefined | 'follow') => void = () => {};
  const announced = new Promise<BatchRequest | undefined | 'follow'>((resolve) => {
    announce = resolve;
  });
  const { promise, leader } = flights.run(key, async (): Promise<Outcome> => {
    const config = cascadeConfig(signal);
    let usage: Usage = { ...EMPTY_USAGE };
    let cost: number | null = 0;
    let attempts = 0;
    let verdict: TriageVerdict | null = null;
    try {
      const near = await nearStage?.match(loaded, key);
      if (near?.cached) {
        announce(undefined);
        return { kind: 'near-dup', result: near.cached, distance: near.distance };
      }
      if (near?.pending) {
        // It cannot wait to see whether its original fails and then join a batch already
        // sent: it follows the original, failure included (errors are not cached, so the
        // next run of the command tries both again).
        announce('follow');
        const original = await near.pending;
        if (original.kind === 'failed') return { ...original, attempts: 0, paid: undefined };
        return { kind: 'near-dup', result: original.result, distance: near.distance };
      }
      if (config.triage) {
        const judged = await runTriage(loaded, config, config.triage);
        verdict = judged.verdict;
        usage = judged.usage;
        cost = judged.cost;
        attempts = judged.attempts;
        if (!verdict.relevant) {
          announce(undefined);
          const result = cachedResult(
            loaded,
            runId,
            {
              output: null,
              model,
              usage,
              cost_usd: cost,
              image: null,
              profile: config.triage.profileName,
              confidence: verdict.confidence,
            },
            triageOnly(verdict),
          );
          await results.save(key, result);
          return { kind: 'fresh', result, attempts, skipped: true, reason: verdict.reason };
        }
      }
      const { prepared, options } = await preparedWithinLimits(
        loaded,
        await sizedFor(loaded, primary, config.maxImageTokens),
        provider.limits,
        provider.id,
        cache.images,
        cache.ttlMs,
      );
      // A document's further pages go in the same request, prepared like the first.
      const { pages, image } = await preparedPages(
        loaded,
        imageInfo(prepared, primary),
        primary,
        config.maxImageTokens,
        cache,
      );
      const customId = customIdOf(key);
      const outcome = new Promise<Outcome>((resolve) => {
        waiting.set(customId, {
          resolve,
          loaded,
          key,
          image,
          profile: options.profileName,
          triage: verdict,
          usage,
          cost,
          attempts,
        });
      });
      announce({
        customId,
        image: providerImage(loaded, prepared),
        ...(pages.length > 0 ? { pages } : {}),
        pattern,
        model,
      });
      return await outcome;
    } catch (error) {
      announce(undefined);
      return {
        kind: 'failed',
        error: toVisionpipeError(error, loaded.label),
        image: null,
        attempts,
        paid: { usage, cost },
      };
    }
  });
  const record = promise.then((outcome) =>
    records.of(outcome, { label, started, sha256: loaded.sha256, leader, bytes: loaded.bytes.length }),
  );
  if (!leader) return { record, known: false };
  const request = await announced;
  if (request === 'follow') return { record, known: false };
  return request ? { request, record, known: false } : { record, known: true };
}
