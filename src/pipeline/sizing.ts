/**
 * Token-aware sizing: send exactly what the provider keeps, and with a per-image token
 * budget (`--max-image-tokens`), the largest size whose estimated image tokens fit it.
 * Token formulas are step functions (tiles, patches), so the search walks whole pixels
 * of the long edge with a binary search instead of assuming tokens ∝ area.
 */
import { type SizeLimits, targetSize } from '../image/profiles.js';
import type { Pattern } from '../patterns/types.js';
import type { Provider, TokenEstimate } from '../providers/spec.js';
import { estimateTextTokens } from '../providers/tokens.js';
import type { ImagePlan } from './spec.js';

/** Limits for one image: the profile's, tightened until the estimate fits `budget`. */
export function limitsWithinBudget(
  width: number,
  height: number,
  limits: SizeLimits,
  budget: number | undefined,
  imageTokens: (width: number, height: number) => number,
): SizeLimits {
  const base = targetSize(width, height, limits);
  if (budget === undefined || imageTokens(base.width, base.height) <= budget) return limits;
  const longest = Math.max(base.width, base.height);
  let low = 1;
  let high = longest;
  // Largest long edge whose fitted size is within budget.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const size = targetSize(width, height, { ...limits, maxLongEdge: mid });
    if (imageTokens(size.width, size.height) <= budget) low = mid;
    else high = mid - 1;
  }
  return { ...limits, maxLongEdge: low };
}

/**
 * A provider's estimate of one extraction, or a generic one for providers without their
 * own (image by formula + prompt at ~4 characters a token + an answer the size of the schema).
 */
export function estimateExtract(
  provider: Provider,
  width: number,
  height: number,
  pattern: Pattern,
  model: string,
): TokenEstimate {
  if (provider.estimateExtractTokens) return provider.estimateExtractTokens(width, height, pattern, model);
  const image = provider.estimateImageTokens(width, height, model);
  return {
    image_tokens: image,
    input_tokens: image + estimateTextTokens(pattern.instructions + JSON.stringify(pattern.schema)),
    output_tokens: estimateTextTokens(JSON.stringify(pattern.schema.properties)),
  };
}

/**
 * What sending an image of this (upright) size would cost, without sending it: the size
 * it goes at (the model's limits and the token budget) and the provider's estimate for
 * that and for the original sent as it is. `Pipeline.plan()`, used by `estimate`.
 */
export function planImage(
  provider: Provider,
  model: string,
  pattern: Pattern,
  limits: SizeLimits,
  budget: number | undefined,
  width: number,
  height: number,
): ImagePlan {
  const within = limitsWithinBudget(width, height, limits, budget, (w, h) =>
    provider.estimateImageTokens(w, h, model),
  );
  const sent = targetSize(width, height, within);
  return {
    width: sent.width,
    height: sent.height,
    tokens: estimateExtract(provider, sent.width, sent.height, pattern, model),
    naive: estimateExtract(provider, width, height, pattern, model),
  };
}
