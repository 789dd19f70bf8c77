/**
 * `optimize` never writes a file larger than its input: when the requested encoding
 * (format, quality, size profile) comes out bigger than the bytes given, the input's own
 * bytes are written instead, unchanged, under the input's own extension, and the result
 * says so (`kept_original: true`, `larger_because`).
 *
 * Not when the original cannot stand in for the output: a `--crop` asks for another image,
 * an animated input's other frames are not written, and a format providers do not take
 * (TIFF, GIF, AVIF, HEIC, BMP…) must be converted whatever its size.
 */
import type { OutputFormat } from '../image/options.js';
import type { PreparedImage } from '../image/preprocess.js';
import { formatBytes } from '../report/units.js';

/** Input formats whose bytes can be written as they are: the ones optimize itself writes. */
const KEEPABLE: ReadonlySet<string> = new Set<OutputFormat>(['jpeg', 'png', 'webp']);

export interface KeptOriginal {
  /** The bytes to write: the input's, unchanged. */
  data: Buffer;
  format: OutputFormat;
  /** Why the requested encoding was not written (sizes, format, what was tried). */
  reason: string;
}

/**
 * The input to write in place of `prepared` when `prepared` is larger than `original`
 * and the input can stand in for it; undefined when `prepared` is to be written.
 * `cropped`: the command asked for a region (`--crop`).
 */
export function keepOriginal(
  original: Buffer,
  prepared: PreparedImage,
  cropped: boolean,
): KeptOriginal | undefined {
  const input = prepared.original;
  if (prepared.bytes <= original.length) return undefined;
  if (cropped || input.frames !== undefined || !KEEPABLE.has(input.format)) return undefined;
  const quality = prepared.quality === undefined ? '' : ` quality ${prepared.quality}`;
  const pct = Math.round((prepared.bytes / original.length - 1) * 100);
  const grown = pct < 1 ? 'under 1%' : `${pct}%`;
  const resized =
    prepared.width === input.width && prepared.height === input.height
      ? ''
      : ` at ${prepared.width}×${prepared.height}`;
  return {
    data: original,
    format: input.format as OutputFormat,
    reason: `${prepared.format}${quality}${resized} is ${formatBytes(prepared.bytes)}, ${grown} larger than the ${formatBytes(original.length)} ${input.format} input: the input was kept as it is (${input.width}×${input.height})`,
  };
}
