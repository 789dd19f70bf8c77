/**
 * Content fingerprints. `sha256` of the original bytes is the content address used by
 * caches and deduplication (never the path: a file rewritten in place is new content).
 * `perceptualHash` is a 64-bit difference hash (dHash) of the upright image, robust to
 * re-encoding and resizing, for near-duplicate detection with `hammingDistance`.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { decodeError } from './decode-error.js';
import { describeImage } from './preprocess.js';

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
  const limitInputPixels = options.limitInputPixels ?? 100_000_000;
  // Preprocessing's own admission, header read and pixel limit (an SVG is
  // UNSUPPORTED_FORMAT, a bomb PIXEL_LIMIT) and its wording of a decode failure.
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { description } = await describeImage(input, label, { limitInputPixels });
  let pixels: Buffer;
  try {
    pixels = await sharp(input, { autoOrient: true, limitInputPixels })
      .flatten({ background: '#ffffff' })
      .greyscale()
      .resize(HASH_WIDTH, HASH_HEIGHT, { fit: 'fill', kernel: 'cubic' })
      .raw()
      .toBuffer();
  } catch (error) {
    throw decodeError(error, label, description.format);
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
