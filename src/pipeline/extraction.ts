/**
 * One extraction call of the cascade on one model: every image of the request prepared
 * within the provider's limits (prepared-images), the call made through the flow's call
 * controls, priced (call-pricing), and once, when the provider refuses the image's size,
 * sent again at half the long edge (never under MIN_RETRY_LONG_EDGE px), the refused
 * call's attempts, usage and cost included. A request alone over the per-minute token
 * budget is sent smaller only when the image is what puts it over.
 */
import { isVisionpipeError, type VisionpipeError } from '../errors.js';
import { attemptsOf, markAttempts } from '../flow/retry.js';
import { pricingModel } from '../providers/model-ids.js';
import type { ExtractResult, Usage } from '../providers/spec.js';
import { overTokenBudgetOf } from '../providers/token-budget.js';
import { priced } from './call-pricing.js';
import type { CascadeConfig, ModelChoice } from './cascade-config.js';
import { addCost, billedPaid, markPaid, type Paid, paidOf } from './paid-calls.js';
import { imageInfo, preparedPages, sizedFor } from './prepared-images.js';
import { preparedWithinLimits, withinRequestLimits } from './provider-limits.js';
import { EMPTY_USAGE, type RunRecord } from './record.js';
import { addUsage, extractStage, type LoadedInput, providerImage } from './stages.js';

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

/**
 * Whether a request refused for being alone over the per-minute token budget (OpenAI's
 * "Request too large … on tokens per min" 429, Anthropic's "would exceed the rate limit …
 * of N input tokens per minute" when the estimate is over N: overTokenBudgetOf) fits it once its image is
 * `smaller`: what was counted, less the image's estimated tokens as sent, plus its estimate
 * at the smaller size. The image must be what puts the request over, and shrinking must
 * lower its count (a model whose image tokens are capped counts a halved scan the same).
 * Any other size refusal: true (the provider's byte or pixel limit).
 */
function fitsAfterShrink(
  error: unknown,
  choice: ModelChoice,
  sent: { width: number; height: number },
  smaller: ModelChoice,
): boolean {
  const over = overTokenBudgetOf(error);
  if (over === undefined) return true;
  // Over the output-token budget (Anthropic's OTPM counts max_tokens): no image size helps.
  if (over.kind === 'output') return false;
  const scale = smaller.preprocess.limits.maxLongEdge / Math.max(sent.width, sent.height);
  const tokens = (width: number, height: number) =>
    choice.provider.estimateImageTokens(Math.round(width), Math.round(height), choice.model);
  const after =
    over.requested - tokens(sent.width, sent.height) + tokens(sent.width * scale, sent.height * scale);
  return after <= over.limit;
}

/**
 * One extraction on `choice`. A failure leaves marked (markPaid) with what its billed
 * calls cost and the image that was sent, so the error record can say both.
 */
export async function extractWith(
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
    if (!refused || !smaller || !fitsAfterShrink(error, choice, prepared, smaller))
      throw markPaid(error, paid);
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
    ...(extracted.retried === undefined ? {} : { retried: extracted.retried }),
    ...(pricedAs === undefined ? {} : { pricedAs }),
  };
}

export type Extracted = {
  result: ExtractResult;
  usage: Usage;
  cost: number | null;
  image: RunRecord['image'];
  attempts: number;
  profile: string;
  mismatch: Awaited<ReturnType<typeof extractStage>>['mismatch'];
  repair: string | null;
  /** Calls sent again after a failure that was not a rate limit, and why (stages.ts). */
  retried?: string;
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
    // Refused again at the smaller size: the record's error says a smaller send was tried.
    if (isVisionpipeError(error) && error.code === 'IMAGE_TOO_LARGE') {
      const resent = spent?.image;
      const size = resent
        ? `${resent.width}×${resent.height}`
        : `at most ${smaller.preprocess.limits.maxLongEdge} px long`;
      error.message = `${smaller.provider.id} refused ${refused.sent.width}×${refused.sent.height} as too large; resent smaller at ${size}, still refused: ${error.message}`;
    }
    // The error record says the smaller resend was made (cascade.resized), as a success's does.
    throw markPaid(markAttempts(error, firstAttempts + (attemptsOf(error) ?? 0)), {
      ...spent,
      resized: note,
      usage: addUsage(refused.paid.usage, spent?.usage ?? { ...EMPTY_USAGE }),
      cost: addCost(refused.paid.cost, spent?.cost ?? 0),
      image: spent?.image ?? refused.paid.image,
    });
  }
}
