/**
 * An image as the cascade sends it: preprocessing sized for the model (its profile,
 * tightened to the per-image token budget), the record's `image` facts (pixels, bytes and
 * estimated image tokens, sent and original), and a document's further pages prepared the
 * same way to go in the same request, their facts summed.
 */
import type { CacheStore } from '../cache/store.js';
import type { ResolvedPreprocessOptions } from '../image/options.js';
import { describeImage, type PreparedImage } from '../image/preprocess.js';
import type { ProviderImage } from '../providers/spec.js';
import type { ModelChoice } from './cascade-config.js';
import { preparedWithinLimits } from './provider-limits.js';
import type { RunRecord } from './record.js';
import { limitsWithinBudget } from './sizing.js';
import { type LoadedInput, providerImage } from './stages.js';

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

/** The record's `image` facts of an image prepared for `choice`: sizes, bytes, estimated tokens. */
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
