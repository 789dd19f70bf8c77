/**
 * A provider batch's answer to one of its requests, turned into that image's outcome:
 * priced as a batch call (as asked, unless the answer names a dated alias of the model),
 * checked against the pattern, and saved in the result cache when it is valid. No answer, or
 * an unreadable one, is the request's failure, with what was billed for it.
 */

import { VisionpipeError } from '../errors.js';
import { schemaMismatch, validateOutput } from '../patterns/index.js';
import { fillNullContainers, nullContainersNote } from '../patterns/null-containers.js';
import type { Pattern } from '../patterns/types.js';
import { joinNotes, repairNote, unwrapOutput } from '../patterns/wrapped-output.js';
import { billedOf } from '../providers/billed.js';
import type { PriceTable } from '../providers/pricing.js';
import type { ExtractResult, Provider, Usage } from '../providers/spec.js';
import type { ResultCacheStage } from './cache-stage.js';
import { callCost } from './call-pricing.js';
import type { TriageVerdict } from './cascade-config.js';
import { cachedResult, fieldPaths, type Outcome } from './outcome.js';
import { addCost } from './paid-calls.js';
import { NO_CASCADE, type RunRecord } from './record.js';
import { addUsage, type LoadedInput } from './stages.js';

/** What settling a batch answer needs from the pipeline. */
export interface BatchAnswerSettings {
  pattern: Pattern;
  provider: Provider;
  /** The model asked for: calls are priced by it (call-pricing.ts). */
  model: string;
  priceTable: PriceTable | undefined;
  results: ResultCacheStage;
  runId: string;
}

/** A request waiting for its batch result. */
export interface BatchWaiting {
  resolve: (outcome: Outcome) => void;
  loaded: LoadedInput;
  key: string;
  image: NonNullable<RunRecord['image']>;
  profile: string;
  triage: TriageVerdict | null;
  usage: Usage;
  cost: number | null;
  attempts: number;
}

/** The cascade info of a result made without escalation or repair: batch answers. */
export const triageOnly = (verdict: TriageVerdict | null) => ({ ...NO_CASCADE, triage: verdict });

/** The outcome of the waiting request `entry` given its batch answer (or per-request error). */
export async function batchAnswerOutcome(
  entry: BatchWaiting,
  answer: { result?: ExtractResult; error?: VisionpipeError },
  settings: BatchAnswerSettings,
): Promise<Outcome> {
  const { provider, pattern, priceTable, results, runId, model: asked } = settings;
  const attempts = entry.attempts + 1;
  // Priced as asked unless the answer names a dated alias of it (call-pricing.ts).
  const batchPrice = (answered: string, usage: Usage) =>
    callCost(provider.id, asked, answered, usage, {
      batch: true,
      ...(priceTable ? { table: priceTable } : {}),
    });
  if (!answer.result) {
    const error =
      answer.error ??
      new VisionpipeError('BAD_RESPONSE', `${entry.loaded.label}: the batch returned nothing for it`);
    // A batch line with an unreadable answer was billed all the same.
    const billed = billedOf(answer.error);
    return {
      kind: 'failed',
      error,
      image: entry.image,
      attempts,
      paid: billed
        ? {
            usage: addUsage(entry.usage, billed.usage),
            cost: addCost(entry.cost, batchPrice(billed.model, billed.usage)),
          }
        : { usage: entry.usage, cost: entry.cost },
    };
  }
  // Tool arguments some models wrap in one extra key are read inside it, and the record
  // says so (as in run: stages.ts).
  const unwrapped = unwrapOutput(pattern, answer.result.output);
  // A plain null for a required object or list means "not found" (null-containers.ts).
  const containers = fillNullContainers(pattern, unwrapped.output);
  const result = { ...answer.result, output: containers.output };
  const usage = addUsage(entry.usage, result.usage);
  const cost = addCost(entry.cost, batchPrice(result.model, result.usage));
  const issues = validateOutput(pattern, result.output);
  if (issues.length > 0) {
    const error = schemaMismatch(pattern, issues, entry.loaded.label);
    // Marked not ok, with what came back: the parsed answer and the model's text.
    return {
      kind: 'failed',
      error,
      image: entry.image,
      attempts,
      paid: { usage, cost, output: result.output, raw: result.raw },
    };
  }
  const cached = cachedResult(
    entry.loaded,
    runId,
    {
      output: result.output,
      model: result.model,
      usage,
      cost_usd: cost,
      image: entry.image,
      profile: entry.profile,
      confidence: result.confidence ?? null,
      field_confidence: fieldPaths(result.fieldConfidence),
    },
    {
      ...triageOnly(entry.triage),
      repair: joinNotes(repairNote(null, unwrapped.wrapper), nullContainersNote(containers.filled)),
    },
  );
  await results.save(entry.key, cached);
  return { kind: 'fresh', result: cached, attempts, skipped: false, reason: null };
}
