/**
 * The one wording of a decoder's failure: PIXEL_LIMIT when libvips refused the pixel count,
 * else IMAGE_DECODE "<input>: cannot decode this <format> (<libvips's first line>)". Every
 * step that decodes (preprocessing, the perceptual hash of --near-dup) throws through it,
 * so one bad file reads the same whatever options the run has.
 */
import { VisionpipeError } from '../errors.js';
import type { ImageFormat } from './sniff.js';

export function decodeError(error: unknown, label: string, format: ImageFormat): VisionpipeError {
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if (/pixel limit/i.test(detail)) {
    return new VisionpipeError('PIXEL_LIMIT', `${label}: ${detail}`, { input: label, cause: error });
  }
  return new VisionpipeError('IMAGE_DECODE', `${label}: cannot decode this ${format} (${detail})`, {
    input: label,
    cause: error,
  });
}
