/** What bench/throughput.ts and its worker processes share: the pattern and the images. */
import sharp from 'sharp';
import { parsePattern } from '../src/patterns/index.js';
import { seededBytes } from '../test/support/images.js';

export const BENCH_PATTERN = parsePattern(
  {
    name: 'receipt',
    format: 'json',
    instructions: 'Extract the merchant and the total.',
    json_schema: { merchant: 'string', total: 'number' },
  },
  'bench',
);

/** `count` distinct small JPEGs (no two alike, so nothing is deduplicated), the same every run. */
export async function benchImages(count: number, seed = 7): Promise<Buffer[]> {
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    images.push(
      await sharp(seededBytes(48 * 48 * 3, seed + i), { raw: { width: 48, height: 48, channels: 3 } })
        .resize(320, 240)
        .jpeg()
        .toBuffer(),
    );
  }
  return images;
}
