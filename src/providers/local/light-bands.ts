/**
 * Light text on a coloured band: a table header in white on green, a totals bar. tesseract
 * binarises the page as a whole, so on a mostly white page such text turns into background
 * and is never read (the "Total (USD)" header of a quote, and with it the document's only
 * currency). Bands are found from the row statistics of the greyscale page (rows where most
 * pixels are mid-tone and a few are near white), cut out, negated and normalised so their
 * text is dark on light, and read apart by the caller.
 */
import sharp from 'sharp';

/** A band of the page, in the pixels of the image given. */
export interface Band {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Luminance of a band's ground: darker than paper, lighter than ink. */
const MID_LOW = 60;
const MID_HIGH = 215;
/** Near white: the band's light text. */
const LIGHT = 235;
/** A row is part of a band when this share of it is mid-tone. */
const BAND_ROW_SHARE = 0.35;
/** Text height bounds, as a share of the page height (a band is a line or two of text). */
const MIN_BAND_SHARE = 0.008;
const MAX_BAND_SHARE = 0.08;
/** Read at most this many bands a page (each is one small extra OCR job). */
const MAX_BANDS = 6;

/**
 * The bands of `image` (any format sharp reads) that hold light text on a mid-tone ground,
 * top to bottom; [] when there is none (the common case: dark text on light paper).
 */
export async function lightTextBands(image: Buffer): Promise<Band[]> {
  const { data, info } = await sharp(image).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const at = (x: number, y: number) => data[(y * width + x) * channels]!;
  const midRows: boolean[] = [];
  for (let y = 0; y < height; y++) {
    let mid = 0;
    for (let x = 0; x < width; x++) {
      const v = at(x, y);
      if (v >= MID_LOW && v <= MID_HIGH) mid++;
    }
    midRows.push(mid / width >= BAND_ROW_SHARE);
  }
  const bands: Band[] = [];
  for (let y = 0; y < height && bands.length < MAX_BANDS; y++) {
    if (!midRows[y]) continue;
    let end = y;
    while (end + 1 < height && midRows[end + 1]) end++;
    const rows = end - y + 1;
    if (rows >= height * MIN_BAND_SHARE && rows <= height * MAX_BAND_SHARE) {
      const band = horizontalExtent(at, width, y, end);
      if (band && hasLightText(at, band)) bands.push(band);
    }
    y = end;
  }
  return bands;
}

type Pixel = (x: number, y: number) => number;

/** The columns of rows top..bottom whose pixels are mostly mid-tone or light (the band), or undefined. */
function horizontalExtent(at: Pixel, width: number, top: number, bottom: number): Band | undefined {
  let left = -1;
  let right = -1;
  for (let x = 0; x < width; x++) {
    let ground = 0;
    for (let y = top; y <= bottom; y++) if (at(x, y) >= MID_LOW) ground++;
    // A column inside the band: no ink-dark pixel in most of its rows, and some mid-tone.
    let mid = 0;
    for (let y = top; y <= bottom; y++) {
      const v = at(x, y);
      if (v >= MID_LOW && v <= MID_HIGH) mid++;
    }
    if (ground === bottom - top + 1 && mid >= (bottom - top + 1) * 0.5) {
      if (left === -1) left = x;
      right = x;
    }
  }
  if (left === -1 || right - left < width * 0.2) return undefined;
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** Some near-white pixels inside the band (its text), but not many (not paper). */
function hasLightText(at: Pixel, band: Band): boolean {
  let light = 0;
  for (let y = band.top; y < band.top + band.height; y++)
    for (let x = band.left; x < band.left + band.width; x++) if (at(x, y) >= LIGHT) light++;
  const share = light / (band.width * band.height);
  return share >= 0.01 && share <= 0.4;
}

/** The band cut out of `image`, negated and stretched: its light text dark on a light ground. */
export function bandForOcr(image: Buffer, band: Band): Promise<Buffer> {
  return sharp(image).extract(band).greyscale().negate().normalise().png().toBuffer();
}
