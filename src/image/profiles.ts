/**
 * Named size profiles: the one source of truth for "how big should the image be that
 * goes to this provider". Preprocessing, token estimators and cost estimates all call
 * `targetSize()` so they can never disagree. Images are never upscaled.
 */

export interface SizeLimits {
  /** Longest edge after resizing, in pixels. */
  maxLongEdge: number;
  /** Shortest edge after resizing (OpenAI high detail keeps 768). */
  maxShortEdge?: number;
  /** Total pixel budget after resizing. */
  maxPixels?: number;
  /**
   * A budget of square patches (OpenAI's patch-billed models: 32-px patches, 1536 of them):
   * above it the image is shrunk the way the provider shrinks it, to whole patches.
   */
  patches?: PatchBudget;
}

export interface PatchBudget {
  /** Patch edge, px. */
  size: number;
  /** Most patches an image may cover. */
  count: number;
}

export interface SizeProfile extends SizeLimits {
  name: ProfileName;
  description: string;
}

export const PROFILE_NAMES = [
  'max2048',
  'openai-high',
  'openai-low',
  'openai-patches',
  'anthropic',
  'gemini',
  'triage',
  'none',
] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const SIZE_PROFILES: Readonly<Record<ProfileName, SizeProfile>> = {
  max2048: {
    name: 'max2048',
    maxLongEdge: 2048,
    description: "fit inside 2048×2048: the ImgGo guide's default for any provider",
  },
  'openai-high': {
    name: 'openai-high',
    maxLongEdge: 2048,
    maxShortEdge: 768,
    description: 'what OpenAI keeps at detail "high": fit 2048×2048, then shortest side 768',
  },
  'openai-low': {
    name: 'openai-low',
    maxLongEdge: 512,
    description: 'OpenAI detail "low": fit 512×512, a flat 85 tokens',
  },
  'openai-patches': {
    name: 'openai-patches',
    maxLongEdge: Number.POSITIVE_INFINITY,
    patches: { size: 32, count: 1536 },
    description:
      "what OpenAI's patch-billed models keep (gpt-4.1-mini/nano, gpt-5-mini/nano, o4-mini): within 1536 patches of 32 px",
  },
  anthropic: {
    name: 'anthropic',
    maxLongEdge: 1568,
    maxPixels: 1_150_000,
    description: 'what Anthropic keeps without resizing: long edge ≤ 1568 and ≤ ~1.15 MP',
  },
  gemini: {
    name: 'gemini',
    maxLongEdge: 1536,
    description: 'Gemini bills 258 tokens per 768×768 tile: fit inside 2×2 tiles (1536)',
  },
  triage: {
    name: 'triage',
    maxLongEdge: 256,
    description: 'low-resolution yes/no relevance checks before paying for full extraction',
  },
  none: {
    name: 'none',
    maxLongEdge: Number.POSITIVE_INFINITY,
    description: 'no resizing (orientation, flattening and metadata stripping still apply)',
  },
};

export function isProfileName(value: string): value is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(value);
}

export interface TargetSize {
  width: number;
  height: number;
  /** Scale factor applied (≤ 1). */
  scale: number;
  resized: boolean;
}

/** Float-safe ceil of a pixel count over a grid size (1056/32 must be 33, not 34). */
export function cells(pixels: number, size: number): number {
  return Math.ceil(pixels / size - 1e-9);
}

/**
 * OpenAI's shrink-to-patch-budget step for patch-billed models: when ⌈w/32⌉⌈h/32⌉ > 1536,
 * scale by √(32²·1536 / (w·h)), then a little more so both edges end on whole patches.
 * Documented example: 1800×2400 → 1056×1408 (33 × 44 = 1452 patches).
 * Source: https://platform.openai.com/docs/guides/images-vision#calculating-costs
 */
export function fitPatchBudget(
  width: number,
  height: number,
  budget: PatchBudget,
): { width: number; height: number } {
  const { size, count } = budget;
  if (cells(width, size) * cells(height, size) <= count) return { width, height };
  let r = Math.sqrt((size * size * count) / (width * height));
  const w = (width * r) / size;
  const h = (height * r) / size;
  r *= Math.min(Math.floor(w) / w, Math.floor(h) / h);
  let fw = Math.max(1, Math.round(width * r));
  let fh = Math.max(1, Math.round(height * r));
  // Rounding may cross a patch line: trim the longer edge until the budget holds.
  while (cells(fw, size) * cells(fh, size) > count && (fw > 1 || fh > 1)) {
    if (fw >= fh) fw--;
    else fh--;
  }
  return { width: fw, height: fh };
}

/** The number of patches of `size` covering an image (after fitting the budget, if any). */
export function patchCount(width: number, height: number, budget: PatchBudget): number {
  const fitted = fitPatchBudget(width, height, budget);
  return cells(fitted.width, budget.size) * cells(fitted.height, budget.size);
}

/**
 * The dimensions an image of `width`×`height` has after fitting `limits`, never upscaled.
 * Rounds to the nearest pixel but never past a limit.
 */
export function targetSize(width: number, height: number, limits: SizeLimits): TargetSize {
  const fitted = fitEdgesAndPixels(width, height, limits);
  if (!limits.patches) return fitted;
  const patched = fitPatchBudget(fitted.width, fitted.height, limits.patches);
  if (patched.width === fitted.width && patched.height === fitted.height) return fitted;
  return { ...patched, scale: patched.width / width, resized: true };
}

function fitEdgesAndPixels(width: number, height: number, limits: SizeLimits): TargetSize {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  let scale = Math.min(1, limits.maxLongEdge / long);
  if (limits.maxShortEdge !== undefined) scale = Math.min(scale, limits.maxShortEdge / short);
  if (limits.maxPixels !== undefined) scale = Math.min(scale, Math.sqrt(limits.maxPixels / (width * height)));
  if (scale >= 1) return { width, height, scale: 1, resized: false };
  const scaleEdge = (edge: number, cap: number) =>
    Math.max(1, Math.min(Math.round(edge * scale), Math.floor(cap)));
  const longCap = Math.min(limits.maxLongEdge, long);
  const shortCap = Math.min(limits.maxShortEdge ?? short, short);
  let w = scaleEdge(width, width >= height ? longCap : shortCap);
  let h = scaleEdge(height, width >= height ? shortCap : longCap);
  // Rounding up can cross a pixel budget by a few pixels: trim the longer edge until it fits.
  if (limits.maxPixels !== undefined) {
    while (w * h > limits.maxPixels && (w > 1 || h > 1)) {
      if (w >= h) w--;
      else h--;
    }
  }
  return { width: w, height: h, scale, resized: w !== width || h !== height };
}
