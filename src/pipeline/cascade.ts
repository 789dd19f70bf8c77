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
 * produced the result.
 */
import { verdictKey } from '../cache/keys.js';
import type { CacheStore } from '../cache/store.js';
import { isVisionpipeError, type VisionpipeError } from '../errors.js';
import { attemptsOf, markAttempts } from '../flow/retry.js';
import { preprocessFingerprint, type ResolvedPreprocessOptions } from '../image/options.js';
import { describeImage, type PreparedImage } from '../image/preprocess.js';
import type { Pattern } from '../patterns/types.js';
import { missingRequired, SchemaMismatchError } from '../patterns/validate.js';
import { billedOf } from '../providers/billed.js';
import { pricingModel } from '../providers/model-ids.js';
import { costUsd, type PriceTable } from '../providers/pricing.js';
import type { ExtractResult, Provider, ProviderImage, Usage } from '../providers/spec.js';
import type { CachedResult } from './cache-stage.js';
import { fieldPaths } from './outcome.js';
import { preparedWithinLimits, withinRequestLimits } from './provider-limits.js';
import { EMPTY_USAGE, type RunRecord } from './record.js';
import { limitsWithinBudget } from './sizing.js';
import {
  addUsage,
  askStage,
  type CallControls,
  extractStage,
  type LoadedInput,
  providerImage,
} from './stages.js';

export { addUsage };

export interface ModelChoice {
  provider: Provider;
  model: string;
  /** Preprocessing for this model (its profile). */
  preprocess: ResolvedPreprocessOptions;
  profileName: string;
}

export interface CascadeConfig {
  pattern: Pattern;
  primary: ModelChoice;
  /** Per-image budget of image tokens on the primary model. */
  maxImageTokens: number | undefined;
  triage: (ModelChoice & { question: string }) | undefined;
  escalation: (ModelChoice & { below: number | undefined }) | undefined;
  images: CacheStore;
  /** Where triage verdicts are kept (a verdict is cheap to keep and costs money to repeat). */
  verdicts: CacheStore;
  ttlMs: number;
  priceTable: PriceTable | undefined;
  controlsFor: (provider: Provider) => CallControls;
  /**
   * An extraction already paid for on these bytes, kept without triage in its key: asked
   * once triage passes, and when it answers nothing is extracted again (cache-miss.ts).
   */
  reuse?: () => Promise<CachedResult | undefined>;
}

export interface TriageVerdict {
  relevant: boolean;
  confidence: number;
  reason: string;
  provider: string;
  model: string;
}

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
  /** The answer named another model than the one asked for, and how the call was priced. */
  pricedAs?: string;
  /** Set when triage judged the image irrelevant: nothing was extracted. */
  skipped: boolean;
  /** Set when triage passed and the extraction was one already paid for (config.reuse). */
  reused?: boolean;
}

export function addCost(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : Math.round((a + b) * 1e10) / 1e10;
}

/** What an image's calls cost before it failed, and the image sent: reported on its error record too. */
export interface Paid {
  usage: Usage;
  cost: number | null;
  image?: RunRecord['image'];
  /** What the last model or engine answered (OCR text, response body, unreadable answer text). */
  raw?: unknown;
  /** The output as parsed, when the answer was read but failed the schema. */
  output?: unknown;
  /** What the cascade did before the failure (triage verdict, the model escalated from, a repair call). */
  cascade?: Pick<RunRecord['cascade'], 'triage' | 'escalated_from' | 'escalation_reason' | 'repair'>;
  /** Why the failed extraction made a repair call, when it did. */
  repair?: string;
}

const paidByError = new WeakMap<object, Paid>();

function markPaid<E>(error: E, paid: Paid): E {
  if (typeof error === 'object' && error !== null) paidByError.set(error, paid);
  return error;
}

/** The usage and cost of the calls an image made before it failed with `error`. */
export function paidOf(error: unknown): Paid | undefined {
  return typeof error === 'object' && error !== null ? paidByError.get(error) : undefined;
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

/** Per-image preprocessing: the model's profile, tightened to the token budget when there is one. */
export async function sizedFor(
  loaded: LoadedInput,
  choice: ModelChoice,
  budget: number | undefined,
): Promise<ResolvedPreprocessOptions> {
  if (budget === undefined) return choice.preprocess;
  const { description } = await describeImage(loaded.bytes, loaded.label, choice.preprocess);
  const limits = limitsWithinBudget(
    description.width,
    description.height,
    choice.preprocess.limits,
    budget,
    (w, h) => choice.provider.estimateImageTokens(w, h, choice.model),
  );
  if (limits.maxLongEdge === choice.preprocess.limits.maxLongEdge) return choice.preprocess;
  return { ...choice.preprocess, limits, profileName: `${choice.preprocess.profileName}≤${budget}t` };
}

export function imageInfo(prepared: PreparedImage, choice: ModelChoice): NonNullable<RunRecord['image']> {
  const { provider, model } = choice;
  return {
    width: prepared.width,
    height: prepared.height,
    bytes: prepared.bytes,
    original_bytes: prepared.original.bytes,
    tokens: provider.estimateImageTokens(prepared.width, prepared.height, model),
    original_tokens: provider.estimateImageTokens(prepared.original.width, prepared.original.height, model),
    // An animated input: say how many frames it has and which one was read.
    ...(prepared.original.frames === undefined ? {} : { frames: prepared.original.frames, frame: 1 }),
  };
}

/**
 * The further pages of a document (`loaded.pages`), each prepared like the first, to go in
 * the same request; `first` is the first page's image info, returned summed over them all.
 */
export async function preparedPages(
  loaded: LoadedInput,
  first: NonNullable<RunRecord['image']>,
  choice: ModelChoice,
  budget: number | undefined,
  cache: { images: CacheStore; ttlMs: number },
): Promise<{ pages: ProviderImage[]; image: NonNullable<RunRecord['image']> }> {
  let image = first;
  const pages: ProviderImage[] = [];
  for (const page of loaded.pages ?? []) {
    const more = await preparedWithinLimits(
      page,
      await sizedFor(page, choice, budget),
      choice.provider.limits,
      choice.provider.id,
      cache.images,
      cache.ttlMs,
    );
    pages.push(providerImage(page, more.prepared));
    image = addImageInfo(image, imageInfo(more.prepared, choice));
  }
  return { pages, image };
}

/** Several images sent together: the first one's size, everyone's bytes and tokens. */
export function addImageInfo(
  a: NonNullable<RunRecord['image']>,
  b: NonNullable<RunRecord['image']>,
): NonNullable<RunRecord['image']> {
  return {
    ...a,
    bytes: a.bytes + b.bytes,
    original_bytes: a.original_bytes + b.original_bytes,
    ...(a.tokens !== undefined && b.tokens !== undefined ? { tokens: a.tokens + b.tokens } : {}),
    ...(a.original_tokens !== undefined && b.original_tokens !== undefined
      ? { original_tokens: a.original_tokens + b.original_tokens }
      : {}),
  };
}

export async function runTriage(
  loaded: LoadedInput,
  config: CascadeConfig,
  triage: NonNullable<CascadeConfig['triage']>,
): Promise<{ verdict: TriageVerdict; usage: Usage; cost: number | null; attempts: number }> {
  const key = verdictKey({
    sha256: loaded.sha256,
    patternFingerprint: config.pattern.fingerprint,
    provider: triage.provider.id,
    model: triage.model,
    providerOptions: triage.provider.answerKey ?? '',
    question: triage.question,
    preprocess: preprocessFingerprint(triage.preprocess),
  });
  const cached = await config.verdicts.get(key).catch(() => undefined);
  if (cached) {
    try {
      return {
        verdict: JSON.parse(cached.toString('utf8')) as TriageVerdict,
        usage: { ...EMPTY_USAGE },
        cost: 0,
        attempts: 0,
      };
    } catch {}
  }
  const { prepared } = await preparedWithinLimits(
    loaded,
    triage.preprocess,
    triage.provider.limits,
    triage.provider.id,
    config.images,
    config.ttlMs,
  );
  let asked: Awaited<ReturnType<typeof askStage>>;
  try {
    asked = await askStage(
      triage.provider,
      providerImage(loaded, prepared),
      triage.question,
      config.pattern,
      triage.model,
      loaded.label,
      config.controlsFor(triage.provider),
    );
  } catch (error) {
    // A billed answer that is not a verdict still cost its tokens, and the image was sent.
    throw markPaid(error, billedPaid(config, triage, error, imageInfo(prepared, triage)));
  }
  const { result, attempts } = asked;
  const verdict: TriageVerdict = {
    relevant: result.answer,
    confidence: result.confidence,
    reason: result.reason ?? (result.answer ? 'relevant' : 'not relevant'),
    provider: triage.provider.id,
    model: result.model,
  };
  await config.verdicts
    .set(key, Buffer.from(JSON.stringify(verdict)), config.ttlMs, {
      provider: verdict.provider,
      model: verdict.model,
    })
    .catch(() => {});
  return {
    verdict,
    usage: result.usage,
    cost: costUsd(
      triage.provider.id,
      pricingModel(triage.model, result.model).model,
      result.usage,
      config.priceTable ? { table: config.priceTable } : {},
    ),
    attempts,
  };
}

/** What a failed call on `choice` was billed (none when unbilled), with the image it sent. */
function billedPaid(
  config: CascadeConfig,
  choice: ModelChoice,
  error: unknown,
  image: RunRecord['image'],
): Paid {
  const billed = billedOf(error);
  const usage = billed?.usage ?? { ...EMPTY_USAGE };
  return {
    usage,
    cost: priced(config, choice, billed?.model ?? choice.model, usage),
    image,
    ...(billed?.answer === undefined ? {} : { raw: billed.answer }),
    ...(billed?.repair === undefined ? {} : { repair: billed.repair }),
  };
}

/**
 * USD for `usage`, priced by the model asked for unless the answer names a dated/version
 * alias of it (model-ids.ts `pricingModel`): a server naming another model can make a call
 * neither free nor dearer. An alias without its own price falls back to the one asked for.
 */
function priced(config: CascadeConfig, choice: ModelChoice, answered: string, usage: Usage): number | null {
  const options = config.priceTable ? { table: config.priceTable } : {};
  const { model } = pricingModel(choice.model, answered);
  return (
    costUsd(choice.provider.id, model, usage, options) ??
    costUsd(choice.provider.id, choice.model, usage, options)
  );
}

/**
 * One extraction on `choice`. A failure leaves marked (markPaid) with what its billed
 * calls cost and the image that was sent, so the error record can say both.
 */
/** The least long edge an image is shrunk to after a size refusal: below it text is unreadable. */
export const MIN_RETRY_LONG_EDGE = 512;

/**
 * `choice` with its images at half the long edge of `sent` (not under
 * MIN_RETRY_LONG_EDGE), or undefined when they cannot get smaller.
 */
function shrunkChoice(choice: ModelChoice, sent: { width: number; height: number }): ModelChoice | undefined {
  const long = Math.max(sent.width, sent.height);
  const edge = Math.max(MIN_RETRY_LONG_EDGE, Math.floor(long / 2));
  if (edge >= long) return undefined;
  const preprocess = choice.preprocess;
  return {
    ...choice,
    preprocess: {
      ...preprocess,
      limits: { ...preprocess.limits, maxLongEdge: Math.min(preprocess.limits.maxLongEdge, edge) },
      profileName: `${preprocess.profileName}≤${edge}px-after-size-refusal`,
    },
  };
}

async function extractWith(
  loaded: LoadedInput,
  config: CascadeConfig,
  choice: ModelChoice,
  budget: number | undefined,
  retried = false,
): Promise<Extracted> {
  // Every image of the request within the provider's per-count limit (Anthropic: > 20 → 2000 px).
  const count = 1 + (loaded.pages?.length ?? 0);
  const preprocess = withinRequestLimits(choice.preprocess, choice.provider.limits, count);
  if (preprocess !== choice.preprocess) choice = { ...choice, preprocess };
  const { prepared, options } = await preparedWithinLimits(
    loaded,
    await sizedFor(loaded, choice, budget),
    choice.provider.limits,
    choice.provider.id,
    config.images,
    config.ttlMs,
  );
  const { pages, image } = await preparedPages(loaded, imageInfo(prepared, choice), choice, budget, config);
  let extracted: Awaited<ReturnType<typeof extractStage>>;
  try {
    extracted = await extractStage(
      choice.provider,
      providerImage(loaded, prepared),
      config.pattern,
      choice.model,
      loaded.label,
      config.controlsFor(choice.provider),
      pages,
    );
  } catch (error) {
    const paid = billedPaid(config, choice, error, image);
    // The provider refused the image's size (its real limit is under what we sized for):
    // once more, smaller. Any other failure, or a second refusal, is the record's error.
    const refused = !retried && isVisionpipeError(error) && error.code === 'IMAGE_TOO_LARGE';
    const smaller = refused ? shrunkChoice(choice, prepared) : undefined;
    if (!refused || !smaller) throw markPaid(error, paid);
    return retrySmaller(loaded, config, smaller, budget, { error, paid, sent: prepared });
  }
  const { result, usage, attempts, mismatch, repair } = extracted;
  const cost = priced(config, choice, result.model, usage);
  const { note: pricedAs } = pricingModel(choice.model, result.model);
  return {
    result,
    usage,
    cost,
    image,
    attempts,
    profile: options.profileName,
    mismatch,
    repair,
    ...(pricedAs === undefined ? {} : { pricedAs }),
  };
}

type Extracted = {
  result: ExtractResult;
  usage: Usage;
  cost: number | null;
  image: RunRecord['image'];
  attempts: number;
  profile: string;
  mismatch: Awaited<ReturnType<typeof extractStage>>['mismatch'];
  repair: string | null;
  resized?: string;
  /** The answer named a model other than the one asked for: how it was priced (pricingModel). */
  pricedAs?: string;
};

/**
 * The one retry after a size refusal, at `smaller`'s size: its attempts, usage and cost
 * include the refused call's, and the result (or the error) says what happened.
 */
async function retrySmaller(
  loaded: LoadedInput,
  config: CascadeConfig,
  smaller: ModelChoice,
  budget: number | undefined,
  refused: { error: VisionpipeError; paid: Paid; sent: { width: number; height: number } },
): Promise<Extracted> {
  const firstAttempts = attemptsOf(refused.error) ?? 1;
  const note = `${smaller.provider.id} refused ${refused.sent.width}×${refused.sent.height} as too large (${refused.error.message}); sent again at most ${smaller.preprocess.limits.maxLongEdge} px long`;
  try {
    const again = await extractWith(loaded, config, smaller, budget, true);
    return {
      ...again,
      attempts: firstAttempts + again.attempts,
      usage: addUsage(refused.paid.usage, again.usage),
      cost: addCost(refused.paid.cost, again.cost),
      resized: note,
    };
  } catch (error) {
    const spent = paidOf(error);
    throw markPaid(markAttempts(error, firstAttempts + (attemptsOf(error) ?? 0)), {
      ...spent,
      usage: addUsage(refused.paid.usage, spent?.usage ?? { ...EMPTY_USAGE }),
      cost: addCost(refused.paid.cost, spent?.cost ?? 0),
      image: spent?.image ?? refused.paid.image,
    });
  }
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
  const facts = () => ({
    triage,
    escalated_from: escalatedFrom,
    escalation_reason: escalationReasonText,
    repair,
  });
  const failed = (error: unknown) => {
    const spent = paidOf(error);
    if (spent?.repair !== undefined) repair = spent.repair;
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

  let first: Awaited<ReturnType<typeof extractWith>> | undefined;
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
    let second: Awaited<ReturnType<typeof extractWith>>;
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
    ...(done.pricedAs ? { pricedAs: done.pricedAs } : {}),
    skipped: false,
  };
}
