/**
 * The preprocessing pipeline, one libvips pass per image:
 * orient from EXIF → crop → fit the size profile (JPEG shrink-on-load) → flatten alpha
 * → 8-bit sRGB → encode, with every metadata block stripped (GPS never leaves the
 * machine). Same bytes + same options → same output bytes, so providers' prompt caches
 * and our own content cache see identical images.
 */
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { VisionpipeError } from '../errors.js';
import { admitImage } from './admit.js';
import { decodeError } from './decode-error.js';
import { estimateJpegQuality, stripJpegMetadata } from './jpeg-segments.js';
import type { CropSpec, CropValue, OutputFormat, ResolvedPreprocessOptions } from './options.js';
import { targetSize } from './profiles.js';
import type { ImageFormat } from './sniff.js';

export interface ImageDescription {
  format: ImageFormat;
  /** Upright width (after EXIF orientation). */
  width: number;
  /** Upright height (after EXIF orientation). */
  height: number;
  bytes: number;
  orientation: number | undefined;
  hasAlpha: boolean;
  /**
   * Animated images only (more than one frame: GIF, WebP, APNG, AVIF sequences): the frames
   * the file has. Only the first frame is read (what libvips decodes without `pages`), and
   * records say so (`image.frames`). Multi-page TIFFs are documents (docs/documents.md).
   */
  frames?: number;
}

export interface PreparedImage {
  /** The bytes to send or write. */
  data: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
  bytes: number;
  original: ImageDescription;
  /** Profile name (with `@maxSize` when overridden). */
  profile: string;
  /** Encoder quality used (JPEG/WebP), after capping to the source's own quality. */
  quality: number | undefined;
  /** True when the original bytes were kept, only stripped of metadata (smaller than re-encoding). */
  passthrough: boolean;
}

interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

function resolveCropValue(value: CropValue, edge: number): number {
  return 'px' in value ? value.px : Math.round(value.fraction * edge);
}

/** The crop region in upright pixels, clipped to the image; INVALID_CROP when nothing is left. */
export function cropRect(crop: CropSpec, width: number, height: number, label: string): Rect {
  const left = resolveCropValue(crop.left, width);
  const top = resolveCropValue(crop.top, height);
  const right = Math.min(width, left + resolveCropValue(crop.width, width));
  const bottom = Math.min(height, top + resolveCropValue(crop.height, height));
  if (left >= width || top >= height || right <= left || bottom <= top) {
    throw new VisionpipeError(
      'INVALID_CROP',
      `${label}: the crop region lies outside the ${width}×${height} image`,
      {
        input: label,
      },
    );
  }
  return { left, top, width: right - left, height: bottom - top };
}

function sharpInput(bytes: Buffer, options: ResolvedPreprocessOptions): Sharp {
  return sharp(bytes, {
    autoOrient: true,
    failOn: options.failOn,
    limitInputPixels: options.limitInputPixels,
    sequentialRead: true,
  });
}

/**
 * Reads the header only (no pixel decode) and refuses pixel bombs before any
 * memory is spent on them.
 */
export async function describeImage(
  bytes: Buffer,
  label: string,
  options: Pick<ResolvedPreprocessOptions, 'limitInputPixels'>,
): Promise<{ description: ImageDescription; metadata: Metadata }> {
  const format = admitImage(bytes, label); // sniff and metadata cap before any decode (admit.ts)
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw decodeError(error, label, format);
  }
  const pixels = metadata.width * metadata.height;
  if (pixels > options.limitInputPixels) {
    throw new VisionpipeError(
      'PIXEL_LIMIT',
      `${label}: ${metadata.width}×${metadata.height} is ${(pixels / 1e6).toFixed(1)} MP, over the limitInputPixels of ${(options.limitInputPixels / 1e6).toFixed(1)} MP`,
      { input: label },
    );
  }
  const swap = (metadata.orientation ?? 1) >= 5;
  return {
    metadata,
    description: {
      format,
      width: swap ? metadata.height : metadata.width,
      height: swap ? metadata.width : metadata.height,
      bytes: bytes.length,
      orientation: metadata.orientation,
      hasAlpha: metadata.hasAlpha,
      ...frameCount(bytes, format, metadata),
    },
  };
}

/**
 * The frames of an animated PNG, from its `acTL` chunk (num_frames, before the first IDAT);
 * undefined for a still PNG. libvips reads APNG as a still image (its default image, the
 * first frame) and reports no pages, so the chunk is read here. Spec:
 * https://www.w3.org/TR/png-3/#acTL-chunk
 */
export function apngFrames(bytes: Uint8Array): number | undefined {
  let at = 8; // after the PNG signature
  while (at + 8 <= bytes.length) {
    const length =
      ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (type === 'IDAT' || type === 'IEND') return undefined;
    if (type === 'acTL' && length >= 8 && at + 12 <= bytes.length) {
      const frames =
        ((bytes[at + 8]! << 24) | (bytes[at + 9]! << 16) | (bytes[at + 10]! << 8) | bytes[at + 11]!) >>> 0;
      return frames;
    }
    at += 12 + length;
  }
  return undefined;
}

/**
 * `{frames}` for an input with more than one frame that only its first is read of: an
 * animated GIF, WebP or AVIF sequence (libvips `pages`) or an APNG (`acTL`). Not TIFF:
 * its pages are a document's (docs/documents.md).
 */
function frameCount(bytes: Buffer, format: ImageFormat, metadata: Metadata): { frames?: number } {
  const frames = format === 'png' ? apngFrames(bytes) : format === 'tiff' ? undefined : metadata.pages;
  return frames !== undefined && frames > 1 ? { frames } : {};
}

function encoderQuality(bytes: Buffer, format: ImageFormat, options: ResolvedPreprocessOptions): number {
  if (!options.capQualityToSource || format !== 'jpeg' || options.format === 'png') return options.quality;
  const source = estimateJpegQuality(bytes);
  return source === undefined ? options.quality : Math.min(options.quality, source);
}

/** A JPEG that needs no pixel change can be sent as-is, minus its metadata. */
function canPassThrough(
  metadata: Metadata,
  description: ImageDescription,
  options: ResolvedPreprocessOptions,
  resized: boolean,
): boolean {
  return (
    options.keepSmallerOriginal &&
    options.format === 'jpeg' &&
    description.format === 'jpeg' &&
    !resized &&
    options.crop === undefined &&
    (description.orientation ?? 1) === 1 &&
    metadata.channels === 3 &&
    metadata.space === 'srgb' &&
    metadata.depth === 'uchar' &&
    metadata.icc === undefined
  );
}

export async function preprocessImage(
  bytes: Buffer,
  options: ResolvedPreprocessOptions,
  label = `<${bytes.length} bytes>`,
): Promise<PreparedImage> {
  const { description, metadata } = await describeImage(bytes, label, options);
  const rect = options.crop
    ? cropRect(options.crop, description.width, description.height, label)
    : undefined;
  const base = rect ?? description;
  const target = targetSize(base.width, base.height, options.limits);
  const quality = options.format === 'png' ? undefined : encoderQuality(bytes, description.format, options);

  let pipeline = sharpInput(bytes, options);
  if (rect) pipeline = pipeline.extract(rect);
  if (target.resized) pipeline = pipeline.resize(target.width, target.height, { fit: 'fill' });
  if (description.hasAlpha && (options.flatten || options.format === 'jpeg')) {
    pipeline = pipeline.flatten({ background: options.background });
  }
  pipeline = pipeline.toColourspace('srgb');
  if (options.format === 'jpeg') pipeline = pipeline.jpeg({ quality, mozjpeg: options.mozjpeg });
  else if (options.format === 'webp') pipeline = pipeline.webp({ quality });
  else pipeline = pipeline.png({ compressionLevel: 9, adaptiveFiltering: true });

  let output: { data: Buffer; info: OutputInfo };
  try {
    output = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw decodeError(error, label, description.format);
  }

  let data = output.data;
  let passthrough = false;
  if (canPassThrough(metadata, description, options, target.resized)) {
    const stripped = stripJpegMetadata(bytes);
    if (stripped && stripped.length <= data.length) {
      data = stripped;
      passthrough = true;
    }
  }
  return {
    data,
    format: options.format,
    width: output.info.width,
    height: output.info.height,
    bytes: data.length,
    original: description,
    profile: options.profileName,
    quality: passthrough ? estimateJpegQuality(bytes) : quality,
    passthrough,
  };
}
