/**
 * Blank-page detection from cheap pixel statistics, before any provider call: the page is
 * shrunk to at most 512 px, made grey, and the share of "ink" pixels (those more than
 * 32 levels away from the page's most common grey, its paper) is counted. Shrinking
 * lightens thin strokes, so the step is low enough that faded print (75 % grey text, a
 * thermal receipt) stays ink, and high enough that scanner noise and show-through do not. A page whose
 * ink covers less than 0.03 % of it (about 60 pixels of a 512 × 396 thumbnail: dust,
 * scanner noise, a lone page number) is blank.
 */
import sharp, { type Sharp } from 'sharp';

/** Longest edge of the thumbnail the statistics are taken on, px. */
const THUMBNAIL_EDGE = 512;
/** Grey levels (0–255) a pixel must differ from the paper by to count as ink (48 dropped 75 % grey text). */
export const INK_DELTA = 32;
/** Share of ink pixels below which a page is blank. */
export const BLANK_INK_FRACTION = 0.0003;

export interface InkStatistics {
  /** Share of the page's pixels that are ink, 0–1. */
  ink: number;
  /** The paper's grey level (the histogram's mode), 0–255. */
  paper: number;
  blank: boolean;
}

/**
 * Ink statistics of an encoded image (JPEG, PNG, …), of raw pixels described by `raw`, or
 * of a sharp pipeline (a clone of the page being encoded: its pixels are decoded once).
 */
export async function inkStatistics(
  image: Buffer | Sharp,
  raw?: { width: number; height: number; channels: 1 | 2 | 3 | 4 },
): Promise<InkStatistics> {
  const input = Buffer.isBuffer(image) ? sharp(image, raw ? { raw } : {}) : image;
  const { data, info } = await input
    .flatten({ background: '#ffffff' })
    .resize(THUMBNAIL_EDGE, THUMBNAIL_EDGE, { fit: 'inside', withoutEnlargement: true })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const histogram = new Uint32Array(256);
  const step = info.channels;
  for (let i = 0; i < data.length; i += step) histogram[data[i]!]!++;
  let paper = 0;
  for (let level = 1; level < 256; level++) if (histogram[level]! > histogram[paper]!) paper = level;
  let ink = 0;
  for (let level = 0; level < 256; level++) if (Math.abs(level - paper) > INK_DELTA) ink += histogram[level]!;
  const fraction = ink / (info.width * info.height);
  return { ink: fraction, paper, blank: fraction < BLANK_INK_FRACTION };
}
