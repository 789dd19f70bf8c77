/**
 * Blank-page detection from cheap pixel statistics, before any provider call: the page is
 * shrunk to at most 1024 px, made grey, and its "ink" pixels (more than 32 levels away from
 * the page's most common grey, its paper) are found. Shrinking lightens thin strokes, so the
 * step is low enough that faded print (75 % grey text, a thermal receipt) stays ink.
 *
 * Scanner noise, paper texture and dust are told from content by shape, not by amount:
 * noise is scattered single pixels and specks of a pixel or two, while a stroke of a
 * letter, a stamp or a signature is a patch of touching pixels. Only ink in 8-connected
 * patches of at least 12 pixels (of a 1024-px thumbnail; scaled for a smaller page) counts.
 * A page is blank when less than 0.008 % of its thumbnail is such ink (65 px of a
 * 1024 × 791 thumbnail): paper texture, dust, or a lone page number ("3" is about 38 px).
 * A single short word ("OK" is about 90 px, "Paid" 130), a small stamp or one line of text
 * is content and is sent. Tuned on blank regions of the real scans in the shared corpus
 * and on synthetic scanner noise with dust (test/documents/blank-pages.test.ts).
 */
import sharp, { type Sharp } from 'sharp';

/** Longest edge of the thumbnail the statistics are taken on, px. */
const THUMBNAIL_EDGE = 1024;
/** Grey levels (0–255) a pixel must differ from the paper by to count as ink (48 dropped 75 % grey text). */
export const INK_DELTA = 32;
/** Fewest pixels of a connected patch of ink (8-connected) that counts: smaller ones are noise and specks. */
export const MIN_PATCH_PIXELS = 12;
/** Share of clustered ink pixels below which a page is blank. */
export const BLANK_INK_FRACTION = 0.00008;

export interface InkStatistics {
  /** Share of the page's pixels that are clustered ink, 0–1 (noise and specks left out). */
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
  const { width, height, channels: step } = info;
  const histogram = new Uint32Array(256);
  for (let i = 0; i < data.length; i += step) histogram[data[i]!]!++;
  let paper = 0;
  for (let level = 1; level < 256; level++) if (histogram[level]! > histogram[paper]!) paper = level;
  const mask = new Uint8Array(width * height);
  for (let p = 0; p < mask.length; p++) mask[p] = Math.abs(data[p * step]! - paper) > INK_DELTA ? 1 : 0;
  // A thumbnail smaller than THUMBNAIL_EDGE (a page rendered small) has smaller patches.
  const scale = Math.max(width, height) / THUMBNAIL_EDGE;
  const ink = clusteredInk(mask, width, height, Math.max(2, Math.round(MIN_PATCH_PIXELS * scale * scale)));
  const fraction = ink / (width * height);
  return { ink: fraction, paper, blank: fraction < BLANK_INK_FRACTION };
}

/**
 * Pixels of `mask` (1 = ink, width × height, row-major) in 8-connected patches of at least
 * `minPatch` pixels. Clears `mask` as it goes; one pass, an explicit stack.
 */
function clusteredInk(mask: Uint8Array, width: number, height: number, minPatch: number): number {
  let ink = 0;
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0) continue;
    mask[start] = 0;
    stack.push(start);
    let size = 0;
    while (stack.length > 0) {
      const p = stack.pop()!;
      size++;
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const row = y + dy;
        if (row < 0 || row >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const col = x + dx;
          if (col < 0 || col >= width) continue;
          const q = row * width + col;
          if (mask[q] === 1) {
            mask[q] = 0;
            stack.push(q);
          }
        }
      }
    }
    if (size >= minPatch) ink += size;
  }
  return ink;
}
