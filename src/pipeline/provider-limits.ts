/**
 * A provider's hard limits (Provider.limits) applied before upload, whatever the size
 * profile says (`--profile none` included): edges and pixels join the resize limits; an
 * encoded image over the byte budget is sent smaller (a few steps down the long edge);
 * one that still does not fit fails here with IMAGE_TOO_LARGE, before any upload, rather
 * than as the provider's 400 after it.
 */
import type { CacheStore } from '../cache/store.js';
import { VisionpipeError } from '../errors.js';
import type { ResolvedPreprocessOptions } from '../image/options.js';
import type { PreparedImage } from '../image/preprocess.js';
import type { ProviderLimits } from '../providers/spec.js';
import { preparedImage } from './image-stage.js';
import type { LoadedInput } from './stages.js';

/** Room left in a request for everything besides the image (prompt, schema, framing), bytes. */
export const PROMPT_ALLOWANCE_BYTES = 256 * 1024;
/** Re-encodes tried after the first one before giving up. */
const SHRINK_STEPS = 4;

/** Resize limits tightened to the provider's edge and pixel limits. */
export function withinHardLimits(
  options: ResolvedPreprocessOptions,
  limits: ProviderLimits | undefined,
): ResolvedPreprocessOptions {
  if (!limits || (limits.maxEdge === undefined && limits.maxPixels === undefined)) return options;
  const edge = Math.min(options.limits.maxLongEdge, limits.maxEdge ?? Number.POSITIVE_INFINITY);
  const pixels = Math.min(
    options.limits.maxPixels ?? Number.POSITIVE_INFINITY,
    limits.maxPixels ?? Number.POSITIVE_INFINITY,
  );
  if (
    edge === options.limits.maxLongEdge &&
    pixels === (options.limits.maxPixels ?? Number.POSITIVE_INFINITY)
  )
    return options;
  return {
    ...options,
    limits: {
      ...options.limits,
      maxLongEdge: edge,
      ...(Number.isFinite(pixels) ? { maxPixels: pixels } : {}),
    },
  };
}

/**
 * Resize limits tightened for a request of `images` images when the provider allows less
 * per image past some count (ProviderLimits.manyImages: Anthropic's 2000 px past 20
 * images); the profile name says so (`…≤2000px-many-images`).
 */
export function withinRequestLimits(
  options: ResolvedPreprocessOptions,
  limits: ProviderLimits | undefined,
  images: number,
): ResolvedPreprocessOptions {
  const rule = limits?.manyImages;
  if (!rule || images <= rule.images || options.limits.maxLongEdge <= rule.maxEdge) return options;
  return {
    ...options,
    limits: { ...options.limits, maxLongEdge: rule.maxEdge },
    profileName: `${options.profileName}≤${rule.maxEdge}px-many-images`,
  };
}

/** The most raw image bytes one upload may carry under `limits`, or undefined for no limit. */
export function rawByteBudget(limits: ProviderLimits | undefined): number | undefined {
  if (!limits) return undefined;
  const budgets: number[] = [];
  if (limits.maxImageBytes !== undefined)
    budgets.push(limits.base64Counted ? Math.floor((limits.maxImageBytes * 3) / 4) : limits.maxImageBytes);
  if (limits.maxRequestBytes !== undefined)
    budgets.push(Math.floor(((limits.maxRequestBytes - PROMPT_ALLOWANCE_BYTES) * 3) / 4));
  return budgets.length === 0 ? undefined : Math.min(...budgets);
}

/**
 * The image prepared with `options`, made smaller until it fits the byte budget. Returns
 * the options it was finally prepared with (their profile name says it was shrunk).
 */
export async function preparedWithinLimits(
  input: LoadedInput,
  options: ResolvedPreprocessOptions,
  limits: ProviderLimits | undefined,
  provider: string,
  store: CacheStore,
  ttlMs: number,
): Promise<{ prepared: PreparedImage; options: ResolvedPreprocessOptions }> {
  let current = options;
  let prepared = await preparedImage(input, current, store, ttlMs);
  const budget = rawByteBudget(limits);
  if (budget === undefined || prepared.bytes <= budget) return { prepared, options: current };
  for (let step = 0; step < SHRINK_STEPS && prepared.bytes > budget; step++) {
    // Bytes go roughly with area: scale the long edge by the square root, with a margin.
    const factor = Math.sqrt(budget / prepared.bytes) * 0.9;
    const edge = Math.max(16, Math.floor(Math.max(prepared.width, prepared.height) * factor));
    current = {
      ...current,
      limits: { ...current.limits, maxLongEdge: Math.min(current.limits.maxLongEdge, edge) },
      profileName: `${options.profileName}≤${provider}-limit`,
    };
    prepared = await preparedImage(input, current, store, ttlMs);
  }
  if (prepared.bytes > budget) {
    throw new VisionpipeError(
      'IMAGE_TOO_LARGE',
      `${input.label}: still ${prepared.bytes} bytes at ${prepared.width}×${prepared.height}, over ${provider}'s ${budget}-byte limit per image; nothing was sent`,
      { input: input.label },
    );
  }
  return { prepared, options: current };
}
