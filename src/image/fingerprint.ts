/**
 * Content fingerprints. `sha256` of the original bytes is the content address used by
 * caches and deduplication (never the path: a file rewritten in place is new content).
 * `perceptualHash` is a 64-bit difference hash (dHash) of the upright image, robust to
 * re-encoding and resizing, for near-duplicate detection with `hammingDistance`.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { VisionpipeError } from '../errors.js';
import { admitImage } from './admit.js';

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const HASH_WIDTH = 9;
const HASH_HEIGHT = 8;

/**
 * dHash: the image shrunk to 9×8 grey pixels, one bit per horizontally adjacent pair
 * (left brighter than right). Returned as 16 hex digits. Cheap on large JPEGs because
 * libvips decodes them at 1/8 scale.
 */
export async function perceptualHash(
  bytes: Uint8Array,
  options: { label?: string; limitInputPixels?: number } = {},
): Promise<string> {
  const label = options.label ?? `<${bytes.length} bytes>`;
  // The same admission as preprocessing: an SVG is UNSUPPORTED_FORMAT here too, not a hash.
  admitImage(bytes, label);
  await assertPixelLimit(bytes, label, options.limitInputPixels ?? 100_000_000);
  let pixels: Buffer;
  try {
    pixels = await sharp(bytes, {
      autoOrient: true,
      limitInputPixels: options.limitInputPixels ?? 100_000_000,
    })
      .flatten({ background: '#ffffff' })
      .greyscale()
      .resize(HASH_WIDTH, HASH_HEIGHT, { fit: 'fill', kernel: 'cubic' })
      .raw()
      .toBuffer();
  } catch (error) {
    throw new VisionpipeError(
      'IMAGE_DECODE',
      `${label}: cannot compute a perceptual hash (${(error as Error).message})`,
      {
        input: label,
        cause: error,
      },
    );
  }
  let hash = 0n;
  for (let y = 0; y < HASH_HEIGHT; y++) {
    for (let x = 0; x < HASH_WIDTH - 1; x++) {
      const left = pixels[y * HASH_WIDTH + x]!;
      const right = pixels[y * HASH_WIDTH + x + 1]!;
      hash = (hash << 1n) | (left > right ? 1n : 0n);
    }
  }
  return hash.toString(16).padStart(16, '0');
}

/** PIXEL_LIMIT from the header, as preprocessing says it (not IMAGE_DECODE from inside libvips). */
async function assertPixelLimit(bytes: Uint8Array, label: string, limit: number): Promise<void> {
  let width = 0;
  let height = 0;
  try {
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (error) {
    throw new VisionpipeError(
      'IMAGE_DECODE',
      `${label}: cannot read the image header (${(error as Error).message})`,
      {
        input: label,
        cause: error,
      },
    );
  }
  if (width * height > limit)
    throw new VisionpipeError(
      'PIXEL_LIMIT',
      `${label}: ${width}×${height} is ${((width * height) / 1e6).toFixed(1)} MP, over the limitInputPixels of ${(limit / 1e6).toFixed(1)} MP`,
      { input: label },
    );
}

/** Number of differing bits between two 64-bit hashes given as hex (0 = identical, 64 = opposite). */
export function hammingDistance(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let count = 0;
  while (x) {
    x &= x - 1n;
    count++;
  }
  return count;
}
