import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { hammingDistance, perceptualHash, sha256 } from '../../src/image/fingerprint.js';
import { estimateJpegQuality, stripJpegMetadata } from '../../src/image/jpeg-segments.js';
import { corpus, jpegWithGps, photoLikeJpeg } from '../support/images.js';

describe('estimateJpegQuality', () => {
  it('recovers the IJG quality a JPEG was saved with', async () => {
    const photo = await photoLikeJpeg(320, 240, 11);
    for (const quality of [40, 60, 75, 85, 95]) {
      const jpeg = await sharp(photo).jpeg({ quality }).toBuffer();
      expect(estimateJpegQuality(jpeg)).toBe(quality);
    }
  });

  it('returns undefined for non-JPEG data', () => {
    expect(estimateJpegQuality(Buffer.from('not a jpeg'))).toBeUndefined();
  });
});

describe('stripJpegMetadata', () => {
  it('removes EXIF/GPS losslessly: pixels are identical', async () => {
    const input = await jpegWithGps();
    const stripped = stripJpegMetadata(input)!;
    expect(stripped).toBeDefined();
    expect(stripped.includes('SECRET-OWNER')).toBe(false);
    expect((await sharp(stripped).metadata()).exif).toBeUndefined();
    const [a, b] = await Promise.all([sharp(input).raw().toBuffer(), sharp(stripped).raw().toBuffer()]);
    expect(a.equals(b)).toBe(true);
  });

  it('drops trailing bytes after the end-of-image marker', async () => {
    const padded = await readFile(corpus('vin1.jpg'));
    const stripped = stripJpegMetadata(padded)!;
    expect(stripped.length).toBeLessThan(padded.length - 100_000);
    expect(stripped.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
  });

  it('walks progressive JPEGs with several scans', async () => {
    const progressive = await sharp(await jpegWithGps())
      .jpeg({ progressive: true })
      .withMetadata()
      .toBuffer();
    const stripped = stripJpegMetadata(progressive)!;
    const [a, b] = await Promise.all([sharp(progressive).raw().toBuffer(), sharp(stripped).raw().toBuffer()]);
    expect(a.equals(b)).toBe(true);
  });

  it('refuses truncated data instead of producing a broken file', async () => {
    const good = await readFile(corpus('inventory1.jpg'));
    expect(stripJpegMetadata(good.subarray(0, good.length / 2))).toBeUndefined();
  });
});

describe('fingerprints', () => {
  it('sha256 addresses content, not names', async () => {
    const bytes = await readFile(corpus('car-plate1.jpg'));
    expect(sha256(bytes)).toBe(sha256(Buffer.from(bytes)));
    expect(sha256(bytes)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('perceptual hashes of a re-encoded, resized copy are close; different images are far', async () => {
    const original = await readFile(corpus('invoice2.jpg'));
    const copy = await sharp(original).resize(900).jpeg({ quality: 60 }).toBuffer();
    const other = await readFile(corpus('parking3.jpg'));
    const [a, b, c] = await Promise.all([
      perceptualHash(original),
      perceptualHash(copy),
      perceptualHash(other),
    ]);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(hammingDistance(a, b)).toBeLessThanOrEqual(4);
    expect(hammingDistance(a, c)).toBeGreaterThan(12);
  });

  it('hammingDistance counts differing bits', () => {
    expect(hammingDistance('0000000000000000', '0000000000000000')).toBe(0);
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('00000000000000ff', '000000000000000f')).toBe(4);
  });
});
