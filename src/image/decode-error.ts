/**
 * The one wording of a decoder's failure: PIXEL_LIMIT when libvips refused the pixel count,
 * else IMAGE_DECODE "<input>: cannot decode this <format> (<what is wrong>)". Every step
 * that decodes (preprocessing, the perceptual hash of --near-dup) throws through it, so one
 * bad file reads the same whatever options the run has.
 *
 * The message is a function of the input alone: libvips' error buffer is process-wide, so
 * sharp's text for one image may carry another image's lines ("VipsJpeg: premature end of
 * JPEG image" on a PNG decoded alongside a JPEG) or none ("(Unknown error)"). Lines naming
 * another format's decoder are dropped, and what is left is read as one of two fixed kinds:
 * a damaged or missing header, or truncated or damaged image data.
 */
import { VisionpipeError } from '../errors.js';
import type { ImageFormat } from './sniff.js';

/** Each format's names as libvips' decoders spell them in their messages (lower case). */
const DECODER_NAMES: Readonly<Record<ImageFormat, readonly string[]>> = {
  jpeg: ['jpeg', 'jpg'],
  png: ['png'],
  webp: ['webp'],
  gif: ['gif'],
  tiff: ['tiff', 'tif'],
  avif: ['avif', 'heif'],
};

/** Wording of a header that is damaged or missing (sharp's own "corrupt header", "unsupported image format"). */
export const DAMAGED_HEADER = 'its header is damaged or missing';
/** Wording of everything else a decoder refuses: the image data ends early or is damaged. */
export const DAMAGED_DATA = 'the image data is truncated or damaged';

const HEADER_TROUBLE = /corrupt header|unsupported image format|not a known file format|bad header/i;

export function decodeError(error: unknown, label: string, format: ImageFormat): VisionpipeError {
  const message = error instanceof Error ? error.message : String(error);
  const own = ownLines(message, format);
  const limit = own.find((line) => /pixel limit/i.test(line));
  if (limit !== undefined) {
    return new VisionpipeError('PIXEL_LIMIT', `${label}: ${limit}`, { input: label, cause: error });
  }
  const kind = own.some((line) => HEADER_TROUBLE.test(line)) ? DAMAGED_HEADER : DAMAGED_DATA;
  return new VisionpipeError('IMAGE_DECODE', `${label}: cannot decode this ${format} (${kind})`, {
    input: label,
    cause: error,
  });
}

/** The lines (and `:`-separated clauses) of sharp's message that name no other format's decoder. */
function ownLines(message: string, format: ImageFormat): string[] {
  const others = Object.entries(DECODER_NAMES)
    .filter(([name]) => name !== format)
    .flatMap(([, names]) => names)
    .filter((name) => !DECODER_NAMES[format].includes(name));
  const foreign = new RegExp(`(?:${others.join('|')})`, 'i');
  return message
    .split(/\n|:\s+(?=[A-Za-z]+:)/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !foreign.test(line));
}
