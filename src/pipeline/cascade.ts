/**
 * The cost cascade for one image (the source documents' `adaptive_quality_analysis`,
 * done so it can be measured and trusted):
 *
 *   1. triage (optional): a cheap yes/no relevance question at low resolution, on a cheap
 *      model or the local engine; irrelevant images stop here, `skipped`, costing only that;
 *   2. extraction at the model's own profile, within the per-image token budget;
 *   3. escalation (optional): once, on a stronger model, when the output fails the schema,
 *      leaves a field the pattern requires null (not found), or its confidence is below
 *      the threshold.
 *
 * Every call goes through the same pacing, breaker and retry policy; usage and cost are
 * summed over the calls the image needed, and the record says which stage and model
 * produced the result. The steps live beside it: triage.ts, extraction.ts (one call and
 * its size-refusal retry), prepared-images.ts, paid-calls.ts, call-pricing.ts; its
 * configuration in cascade-config.ts.
 */
import { isVisionpipeError } from '../errors.js';
import { attemptsOf, markAttempts } from '../flow/retry.js';
import { missingRequired, SchemaMismatchError } from '../patterns/validate.js';
import type { Usage } from '../providers/spec.js';
import type { CascadeConfig, TriageVerdict } from './cascade-config.js';
import { type Extracted, extractWith } from './extraction.js';
import { fieldPaths } from './outcome.js';
import { addCost, markPaid, paidOf } from './paid-calls.js';
import { EMPTY_USAGE, type RunRecord } from './record.js';
import { addUsage, type LoadedInput } from './stages.js';
import { runTriage } from './triage.js';

export interface Cascade {
  output: unknown;
  model: string;
  usage: Usage;
  cost_usd: number | null;
  image: RunRecord['image'];
  profile: string;
  confidence: number | null;
  /** Per-field confidence keyed by field path (`vendor_name`, `address/city`), when the provider gives one. */
  fieldConfidence: Record<string, number> | null;
  attempts: number;
  triage: TriageVerdict | null;
  /** The model whose result was replaced, when escalation happened. */
  escalatedFrom: string | null;
  escalationReason: string | null;
  /** Why the answer needed its one repair call (it was not JSON), when it did. */
  repair: string | null;
  /** Why the image was sent again smaller (the provider refused its size), when it was. */
  resized?: string;
  /** Calls sent again after a failure that was not a rate limit, and why, when any was. */
  retried?: string;
  /** The answer named another model than the one asked for, and how the call was priced. */
  pricedAs?: string;
  /** Set when triage judged the image irrelevant: nothing was extracted. */
  skipped: boolean;
  /** Set when triage passed and the extraction was one already paid for (config.reuse). */
  reused?: boolean;
}

/** Why the first answer was not good enough, naming the fields and rules when the schema says. */
function escalationReason(error: unknown, model: string): string {
  const code = (error as { code?: string }).code ?? 'failed';
  if (!(error instanceof SchemaMismatchError)) return `${code} on ${model}`;
  const rules = error.issues.slice(0, 3).map((issue) => `${issue.path || '/'} ${issue.keyword}`);
  return `${code} on ${model} (${rules.join(', ')}${error.issues.length > 3 ? ', …' : ''})`;
}

/** A failure worth a stronger model: the answer was wrong in shape, not the service down. */
function isQualityFailure(error: unknown): boolean {
  return isVisionpipeError(error) && (error.code === 'SCHEMA_MISMATCH' || error.code === 'BAD_RESPONSE');
}

/**
 * Runs the cascade. Throws the extraction's error when every allowed stage failed; the
 * error carries the provider calls made (attemptsOf) and what they cost with the image
 * last sent (paidOf).
 */
export async function runCascade(loaded: LoadedInput, config: CascadeConfig): Promise<Cascade> {
  let usage: Usage = { ...EMPTY_USAGE };
  let cost: number | null = 0;
  let attempts = 0;
  let triage: TriageVerdict | null = null;
  let sent: RunRecord['image'] = null;
  /** Adds a failed stage's billed calls to the totals, and returns the error marked with them. */
  let escalatedFrom: string | null = null;
  let escalationReasonText: string | null = null;
  let repair: string | null = null;
  /** The failed call's image was refused for its size and resent smaller (extraction.ts retrySmaller). */
  let resized: string | undefined;
  const facts = () => ({
    triage,
    escalated_from: escalatedFrom,
    escalation_reason: escalationReasonText,
    repair,
    ...(resized === undefined ? {} : { resized }),
  });
  const failed = (error: unknown) => {
    const spent = paidOf(error);
    if (spent?.repair !== undefined) repair = spent.repair;
    if (spent?.resized !== undefined) resized = spent.resized;
    if (spent) {
      usage = addUsage(usage, spent.usage);
      cost = addCost(cost, spent.cost);
      sent = spent.image ?? sent;
    }
    attempts += attemptsOf(error) ?? 0;
    return markPaid(markAttempts(error, attempts), {
      usage,
      cost,
      image: sent,
      raw: spent?.raw,
      ...(spent?.output === undefined ? {} : { output: spent.output }),
      cascade: facts(),
    });
  };

  if (config.triage) {
    let judged: Awaited<ReturnType<typeof runTriage>>;
    try {
      judged = await runTriage(loaded, config, config.triage);
    } catch (error) {
      throw failed(error);
    }
    triage = judged.verdict;
    usage = addUsage(usage, judged.usage);
    cost = addCost(cost, judged.cost);
    attempts += judged.attempts;
    if (!triage.relevant) {
      return {
        output: null,
        model: config.primary.model,
        usage,
        cost_usd: cost,
        image: null,
        profile: config.triage.profileName,
        confidence: triage.confidence,
        fieldConfidence: null,
        attempts,
        triage,
        escalatedFrom: null,
        escalationReason: null,
        repair: null,
        skipped: true,
      };
    }
  }

  // Triage passed: an extraction already paid for (by a run with or without triage) stands.
  const kept = config.triage ? await config.reuse?.() : undefined;
  if (kept) {
    // A cache hit sends nothing: a verdict of the local engine (or one from the verdict cache)
    // is no provider call, so the record counts no attempt and no bytes sent (runs/volume.ts).
    // A remote triage model's call is one, and counts.
    if (config.triage?.provider.id === 'local') attempts = 0;
    return {
      output: kept.output,
      model: kept.model,
      usage,
      cost_usd: cost,
      image: kept.image,
      profile: kept.profile,
      confidence: kept.confidence,
      fieldConfidence: kept.field_confidence ?? null,
      attempts,
      triage,
      escalatedFrom: kept.cascade.escalated_from ?? null,
      escalationReason: kept.cascade.escalation_reason ?? null,
      repair: kept.cascade.repair ?? null,
      skipped: false,
      reused: true,
    };
  }

  let first: Extracted | undefined;
  let firstError: unknown;
  try {
    first = await extractWith(loaded, config, config.primary, config.maxImageTokens);
  } catch (error) {
    // The calls an image cost include its triage and failed billed calls: report them with the error.
    const marked = failed(error);
    if (!config.escalation || !isQualityFailure(error)) throw marked;
    firstError = error; // an unreadable answer: the stronger model may do better
  }
  if (first) {
    usage = addUsage(usage, first.usage);
    cost = addCost(cost, first.cost);
    attempts += first.attempts;
    sent = first.image;
    firstError = first.mismatch;
    repair = first.repair;
    if (firstError && !config.escalation)
      throw markPaid(markAttempts(firstError, attempts), {
        usage,
        cost,
        image: sent,
        raw: first.result.raw,
        output: first.result.output,
        cascade: facts(),
      });
  }

  const escalation = config.escalation;
  const lowConfidence =
    firstError === undefined &&
    escalation?.below !== undefined &&
    first?.result.confidence !== undefined &&
    first.result.confidence < escalation.below;
  const missing =
    escalation && first && firstError === undefined
      ? missingRequired(config.pattern, first.result.output)
      : [];
  if (escalation && (firstError !== undefined || lowConfidence || missing.length > 0)) {
    const reason =
      firstError !== undefined
        ? escalationReason(firstError, config.primary.model)
        : missing.length > 0
          ? `required ${missing.slice(0, 3).join(', ')} not found by ${config.primary.model}`
          : `confidence ${first?.result.confidence} below ${escalation.below}`;
    escalatedFrom = `${config.primary.provider.id}:${first?.result.model ?? config.primary.model}`;
    escalationReasonText = reason;
    let second: Extracted;
    try {
      second = await extractWith(loaded, config, escalation, undefined);
    } catch (error) {
      throw failed(error);
    }
    usage = addUsage(usage, second.usage);
    cost = addCost(cost, second.cost);
    attempts += second.attempts;
    repair = second.repair ?? repair;
    if (second.mismatch)
      throw markPaid(markAttempts(second.mismatch, attempts), {
        usage,
        cost,
        image: second.image,
        raw: second.result.raw,
        output: second.result.output,
        cascade: facts(),
      });
    return {
      output: second.result.output,
      model: second.result.model,
      usage,
      cost_usd: cost,
      image: second.image,
      profile: second.profile,
      confidence: second.result.confidence ?? null,
      fieldConfidence: fieldPaths(second.result.fieldConfidence),
      attempts,
      triage,
      escalatedFrom,
      escalationReason: reason,
      repair: second.repair,
      ...(second.resized ? { resized: second.resized } : {}),
      ...(second.retried || first?.retried
        ? { retried: [first?.retried, second.retried].filter(Boolean).join('; ') }
        : {}),
      ...(second.pricedAs ? { pricedAs: second.pricedAs } : {}),
      skipped: false,
    };
  }
  // No escalation and no error: the first answer stands.
  const done = first!;
  return {
    output: done.result.output,
    model: done.result.model,
    usage,
    cost_usd: cost,
    image: done.image,
    profile: done.profile,
    confidence: done.result.confidence ?? null,
    fieldConfidence: fieldPaths(done.result.fieldConfidence),
    attempts,
    triage,
    escalatedFrom: null,
    escalationReason: null,
    repair: done.repair,
    ...(done.resized ? { resized: done.resized } : {}),
    ...(done.retried ? { retried: done.retried } : {}),
    ...(done.pricedAs ? { pricedAs: done.pricedAs } : {}),
    skipped: false,
  };
}
