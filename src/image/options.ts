/**
 * Preprocessing options: the public shape, validation with messages that name the
 * option and the bad value, and defaults. Everything downstream receives
 * `ResolvedPreprocessOptions` and trusts it.
 */
import { z } from 'zod';
import { parseOptions } from '../config/validate.js';
import { VisionpipeError } from '../errors.js';
import {
  isProfileName,
  PROFILE_NAMES,
  type ProfileName,
  SIZE_PROFILES,
  type SizeLimits,
} from './profiles.js';

export type OutputFormat = 'jpeg' | 'png' | 'webp';
export type FailOn = 'none' | 'truncated' | 'error' | 'warning';

/** One crop coordinate: whole pixels, or a fraction of the (upright) image's edge. */
export type CropValue = { px: number } | { fraction: number };
export interface CropSpec {
  left: CropValue;
  top: CropValue;
  width: CropValue;
  height: CropValue;
}

export interface PreprocessOptions {
  /** Named size profile (default `max2048`) or explicit limits. */
  profile?: ProfileName | SizeLimits;
  /** Overrides the profile's longest edge, in pixels. */
  maxSize?: number;
  /** Output encoding. Default `jpeg`. */
  format?: OutputFormat;
  /** Encoder quality 1–100. Default 85. */
  quality?: number;
  /** Use mozjpeg's encoder settings: ~10 % smaller, ~4× slower. Default false. */
  mozjpeg?: boolean;
  /** Replace transparency with `background`. Default true (always for JPEG). */
  flatten?: boolean;
  /** Colour under transparent pixels. Default `#ffffff`. */
  background?: string;
  /** Region to keep, in upright coordinates: `"left,top,width,height"` or a CropSpec. */
  crop?: string | CropSpec;
  /** Refuse images with more pixels than this. Default 100 000 000. */
  limitInputPixels?: number;
  /** How strict decoding is about damaged data. Default `truncated`. */
  failOn?: FailOn;
  /** Never re-encode a JPEG above its own estimated quality. Default true. */
  capQualityToSource?: boolean;
  /**
   * When an input already matches the output format and needs no pixel change, send
   * its bytes with metadata stripped losslessly if that is smaller than re-encoding. Default true.
   */
  keepSmallerOriginal?: boolean;
}

export interface ResolvedPreprocessOptions {
  profileName: string;
  limits: SizeLimits;
  format: OutputFormat;
  quality: number;
  mozjpeg: boolean;
  flatten: boolean;
  background: string;
  crop: CropSpec | undefined;
  limitInputPixels: number;
  failOn: FailOn;
  capQualityToSource: boolean;
  keepSmallerOriginal: boolean;
}

export const PREPROCESS_DEFAULTS = {
  profile: 'max2048',
  format: 'jpeg',
  quality: 85,
  mozjpeg: false,
  flatten: true,
  background: '#ffffff',
  limitInputPixels: 100_000_000,
  failOn: 'truncated',
  capQualityToSource: true,
  keepSmallerOriginal: true,
} as const;

const CROP_VALUE = /^(?:(\d+)|(\d+(?:\.\d+)?)%|(0?\.\d+|1\.0*|0\.0*))$/;

function parseCropValue(text: string, name: string, input: string): CropValue {
  const match = CROP_VALUE.exec(text.trim());
  if (!match) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `crop ${name} "${text}" in "${input}" must be whole pixels (120), a percentage (25%) or a fraction (0.25)`,
      { option: 'crop' },
    );
  }
  if (match[1] !== undefined) return { px: Number(match[1]) };
  const fraction = match[2] !== undefined ? Number(match[2]) / 100 : Number(match[3]);
  if (fraction > 1) {
    throw new VisionpipeError('INVALID_OPTION', `crop ${name} "${text}" is more than 100%`, {
      option: 'crop',
    });
  }
  return { fraction };
}

/** Parses `"left,top,width,height"`, each part pixels, a percentage or a decimal fraction. */
export function parseCrop(text: string): CropSpec {
  const parts = text.split(',');
  if (parts.length !== 4) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `crop "${text}" must be left,top,width,height (e.g. 0,0,100%,50% for the top half)`,
      { option: 'crop' },
    );
  }
  const [left, top, width, height] = parts.map((part, i) =>
    parseCropValue(part, ['left', 'top', 'width', 'height'][i]!, text),
  ) as [CropValue, CropValue, CropValue, CropValue];
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (('px' in value ? value.px : value.fraction) === 0) {
      throw new VisionpipeError('INVALID_OPTION', `crop ${name} in "${text}" must be greater than zero`, {
        option: 'crop',
      });
    }
  }
  return { left, top, width, height };
}

const cropValueSchema = z.union([
  z.object({ px: z.number().int().min(0) }).strict(),
  z.object({ fraction: z.number().min(0).max(1) }).strict(),
]);

const sizeLimitsSchema = z
  .object({
    maxLongEdge: z.number().positive(),
    maxShortEdge: z.number().positive().optional(),
    maxPixels: z.number().positive().optional(),
    patches: z
      .object({ size: z.number().int().positive(), count: z.number().int().positive() })
      .strict()
      .optional(),
  })
  .strict();

const optionsSchema = z
  .object({
    profile: z
      .union([
        z.string().refine(isProfileName, { message: `expected one of ${PROFILE_NAMES.join(', ')}` }),
        sizeLimitsSchema,
      ])
      .optional(),
    maxSize: z.number().int().min(16).max(65_535).optional(),
    format: z.enum(['jpeg', 'png', 'webp']).optional(),
    quality: z.number().int().min(1).max(100).optional(),
    mozjpeg: z.boolean().optional(),
    flatten: z.boolean().optional(),
    background: z
      .string()
      .regex(/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i, { message: 'expected a hex colour like #ffffff' })
      .optional(),
    crop: z
      .union([
        z.string(),
        z.object({
          left: cropValueSchema,
          top: cropValueSchema,
          width: cropValueSchema,
          height: cropValueSchema,
        }),
      ])
      .optional(),
    limitInputPixels: z.number().int().positive().optional(),
    failOn: z.enum(['none', 'truncated', 'error', 'warning']).optional(),
    capQualityToSource: z.boolean().optional(),
    keepSmallerOriginal: z.boolean().optional(),
  })
  .strict();

export function resolvePreprocessOptions(options: PreprocessOptions = {}): ResolvedPreprocessOptions {
  const parsed = parseOptions(optionsSchema, options, 'preprocess');
  const profile = parsed.profile ?? PREPROCESS_DEFAULTS.profile;
  const base: SizeLimits = typeof profile === 'string' ? SIZE_PROFILES[profile as ProfileName] : profile;
  const limits: SizeLimits = {
    maxLongEdge: parsed.maxSize ?? base.maxLongEdge,
    ...(base.maxShortEdge === undefined ? {} : { maxShortEdge: base.maxShortEdge }),
    ...(base.maxPixels === undefined ? {} : { maxPixels: base.maxPixels }),
    ...(base.patches === undefined ? {} : { patches: base.patches }),
  };
  const profileName =
    (typeof profile === 'string' ? profile : 'custom') +
    (parsed.maxSize === undefined ? '' : `@${parsed.maxSize}`);
  return {
    profileName,
    limits,
    format: parsed.format ?? PREPROCESS_DEFAULTS.format,
    quality: parsed.quality ?? PREPROCESS_DEFAULTS.quality,
    mozjpeg: parsed.mozjpeg ?? PREPROCESS_DEFAULTS.mozjpeg,
    flatten: parsed.flatten ?? PREPROCESS_DEFAULTS.flatten,
    background: parsed.background ?? PREPROCESS_DEFAULTS.background,
    crop: typeof parsed.crop === 'string' ? parseCrop(parsed.crop) : (parsed.crop as CropSpec | undefined),
    limitInputPixels: parsed.limitInputPixels ?? PREPROCESS_DEFAULTS.limitInputPixels,
    failOn: parsed.failOn ?? PREPROCESS_DEFAULTS.failOn,
    capQualityToSource: parsed.capQualityToSource ?? PREPROCESS_DEFAULTS.capQualityToSource,
    keepSmallerOriginal: parsed.keepSmallerOriginal ?? PREPROCESS_DEFAULTS.keepSmallerOriginal,
  };
}

/**
 * A stable string of every option that changes the output bytes: cache keys for
 * preprocessed images and results include it, so changing any of them is a miss.
 */
export function preprocessFingerprint(options: ResolvedPreprocessOptions): string {
  return JSON.stringify([
    options.limits.maxLongEdge,
    options.limits.maxShortEdge ?? null,
    options.limits.maxPixels ?? null,
    options.limits.patches ? [options.limits.patches.size, options.limits.patches.count] : null,
    options.format,
    options.quality,
    options.mozjpeg,
    options.flatten,
    options.background.toLowerCase(),
    options.crop ?? null,
    options.capQualityToSource,
    options.keepSmallerOriginal,
    // A truncated image decodes to partial pixels under `none` and fails under the others.
    options.failOn,
  ]);
}
