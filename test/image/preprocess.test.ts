import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { optimizeImage } from '../../src/image/optimize-image.js';
import { resolvePreprocessOptions } from '../../src/image/options.js';
import { preprocessImage } from '../../src/image/preprocess.js';
import { corpus, jpegWithGps, orientedJpeg, photoLikeJpeg, transparentPng } from '../support/images.js';

const defaults = resolvePreprocessOptions();

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + info.channels)];
}

async function rejection(promise: Promise<unknown>): Promise<VisionpipeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VisionpipeError);
    return error as VisionpipeError;
  }
  throw new Error('expected a rejection');
}

describe('preprocessImage', () => {
  it('applies EXIF orientation 6 before stripping metadata: output is upright', async () => {
    const prepared = await preprocessImage(await orientedJpeg(), defaults, 'oriented.jpg');
    expect(prepared.original).toMatchObject({ width: 200, height: 300, orientation: 6 });
    expect([prepared.width, prepared.height]).toEqual([200, 300]);
    const top = await pixel(prepared.data, 100, 20);
    const bottom = await pixel(prepared.data, 100, 280);
    expect(top[0]).toBeGreaterThan(200); // red on top
    expect(top[2]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200); // blue below
    const meta = await sharp(prepared.data).metadata();
    expect(meta.orientation).toBeUndefined();
  });

  it('flattens transparency onto white and onto a configured background', async () => {
    const png = await transparentPng();
    const white = await preprocessImage(png, defaults);
    expect(await pixel(white.data, 2, 2)).toEqual([255, 255, 255]);
    expect((await pixel(white.data, 50, 50))[0]).toBeLessThan(20);
    expect((await sharp(white.data).metadata()).hasAlpha).toBe(false);

    const red = await preprocessImage(
      png,
      resolvePreprocessOptions({ background: '#ff0000', format: 'png' }),
    );
    expect(await pixel(red.data, 2, 2)).toEqual([255, 0, 0]);

    const kept = await preprocessImage(png, resolvePreprocessOptions({ flatten: false, format: 'png' }));
    expect((await sharp(kept.data).metadata()).hasAlpha).toBe(true);
  });

  it('never upscales a small image', async () => {
    const small = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    for (const profile of ['max2048', 'openai-high', 'anthropic', 'gemini'] as const) {
      const prepared = await preprocessImage(small, resolvePreprocessOptions({ profile }));
      expect([prepared.width, prepared.height]).toEqual([100, 100]);
    }
  });

  it('fits large images to the profile with the exact targetSize dimensions', async () => {
    const photo = await photoLikeJpeg(4000, 3000, 1);
    const cases = [
      ['max2048', 2048, 1536],
      ['openai-high', 1024, 768],
      ['openai-low', 512, 384],
      ['triage', 256, 192],
    ] as const;
    for (const [profile, width, height] of cases) {
      const prepared = await preprocessImage(photo, resolvePreprocessOptions({ profile }));
      expect([prepared.width, prepared.height], profile).toEqual([width, height]);
    }
    const anthropic = await preprocessImage(photo, resolvePreprocessOptions({ profile: 'anthropic' }));
    expect(anthropic.width * anthropic.height).toBeLessThanOrEqual(1_150_000);
    expect(Math.max(anthropic.width, anthropic.height)).toBeLessThanOrEqual(1568);
    const custom = await preprocessImage(photo, resolvePreprocessOptions({ maxSize: 1000 }));
    expect([custom.width, custom.height]).toEqual([1000, 750]);
  });

  it('strips EXIF and GPS: nothing identifying leaves the machine', async () => {
    const input = await jpegWithGps(3000, 2000);
    expect((await sharp(input).metadata()).exif).toBeDefined();
    expect(input.includes('SECRET-OWNER')).toBe(true);
    const prepared = await preprocessImage(input, defaults);
    const meta = await sharp(prepared.data).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(prepared.data.includes('SECRET-OWNER')).toBe(false);
    expect(prepared.data.includes('Exif')).toBe(false);
  });

  it('strips metadata even when the original JPEG is passed through unchanged', async () => {
    const input = await jpegWithGps(640, 480); // small: no resize, so passthrough is possible
    const prepared = await preprocessImage(input, defaults);
    expect(prepared.data.includes('SECRET-OWNER')).toBe(false);
    expect((await sharp(prepared.data).metadata()).exif).toBeUndefined();
    expect(prepared.bytes).toBeLessThanOrEqual(input.length);
  });

  it('produces identical bytes for identical input and options', async () => {
    const photo = await photoLikeJpeg(3000, 2000, 3);
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const options = resolvePreprocessOptions({ format });
      const a = await preprocessImage(photo, options);
      const b = await preprocessImage(Buffer.from(photo), options);
      expect(a.data.equals(b.data), format).toBe(true);
    }
  });

  it('never re-encodes above the source JPEG quality', async () => {
    const q60 = await sharp(await photoLikeJpeg(3000, 2000, 4))
      .jpeg({ quality: 60 })
      .toBuffer();
    const prepared = await preprocessImage(q60, defaults);
    expect(prepared.quality).toBe(60);
    const uncapped = await preprocessImage(q60, resolvePreprocessOptions({ capQualityToSource: false }));
    expect(uncapped.quality).toBe(85);
    expect(prepared.bytes).toBeLessThan(uncapped.bytes);
  });

  it('crops in upright coordinates with pixels, percentages and fractions', async () => {
    const oriented = await orientedJpeg(); // upright: 200×300, red top half
    const topHalf = await preprocessImage(oriented, resolvePreprocessOptions({ crop: '0,0,100%,50%' }));
    expect([topHalf.width, topHalf.height]).toEqual([200, 150]);
    expect((await pixel(topHalf.data, 100, 140))[0]).toBeGreaterThan(200);
    const bottom = await preprocessImage(oriented, resolvePreprocessOptions({ crop: '0,0.5,1.0,0.5' }));
    expect((await pixel(bottom.data, 100, 10))[2]).toBeGreaterThan(200);
    const px = await preprocessImage(oriented, resolvePreprocessOptions({ crop: '10,20,50,60' }));
    expect([px.width, px.height]).toEqual([50, 60]);
    const clipped = await preprocessImage(oriented, resolvePreprocessOptions({ crop: '150,0,500,10' }));
    expect([clipped.width, clipped.height]).toEqual([50, 10]);
    const outside = await rejection(
      preprocessImage(oriented, resolvePreprocessOptions({ crop: '300,0,10,10' }), 'o.jpg'),
    );
    expect(outside.code).toBe('INVALID_CROP');
    expect(outside.message).toContain('o.jpg');
  });

  it('converts CMYK, 16-bit and greyscale inputs to 8-bit sRGB', async () => {
    const cmyk = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const sixteen = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(sixteen).metadata()).depth).toBe('ushort');
    const grey = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#777777' } })
      .greyscale()
      .png()
      .toBuffer();
    for (const [name, input] of Object.entries({ cmyk, sixteen, grey })) {
      for (const format of ['jpeg', 'png'] as const) {
        const out = await preprocessImage(input, resolvePreprocessOptions({ format }));
        const meta = await sharp(out.data).metadata();
        expect(meta.space, `${name} → ${format}`).toBe('srgb');
        expect(meta.channels, `${name} → ${format}`).toBe(3);
        expect(meta.depth, `${name} → ${format}`).toBe('uchar');
      }
    }
  });

  it('reads a .jpg that is really a PNG by its bytes', async () => {
    const prepared = await preprocessImage(
      await readFile(corpus('prescription1.jpg')),
      defaults,
      'prescription1.jpg',
    );
    expect(prepared.original.format).toBe('png');
    expect(prepared.format).toBe('jpeg');
  });

  it('accepts a JPEG with ~160 KB of zero padding after its end marker', async () => {
    const padded = await readFile(corpus('vin1.jpg'));
    const prepared = await preprocessImage(padded, defaults, 'vin1.jpg');
    expect(prepared.width).toBe(2048);
    expect(prepared.bytes).toBeLessThan(padded.length);
  });

  it('decodes GIF (first frame), WebP, TIFF and AVIF', async () => {
    const base = sharp({ create: { width: 120, height: 80, channels: 3, background: '#20a040' } });
    const inputs = {
      gif: await base.clone().gif().toBuffer(),
      webp: await base.clone().webp().toBuffer(),
      tiff: await base.clone().tiff().toBuffer(),
      avif: await base.clone().avif().toBuffer(),
    };
    for (const [format, bytes] of Object.entries(inputs)) {
      const prepared = await preprocessImage(bytes, defaults, format);
      expect(prepared.original.format).toBe(format);
      expect([prepared.width, prepared.height]).toEqual([120, 80]);
    }
  });

  it('rejects damaged and hostile inputs with typed, non-retryable errors naming the input', async () => {
    const good = await readFile(corpus('inventory1.jpg'));
    const truncated = good.subarray(0, Math.floor(good.length * 0.6));
    const cases: Array<[string, Buffer, string]> = [
      ['truncated.jpg', truncated, 'IMAGE_DECODE'],
      ['empty.jpg', Buffer.alloc(0), 'EMPTY_INPUT'],
      ['page.jpg', Buffer.from('<!DOCTYPE html><html><body>Login</body></html>'), 'UNSUPPORTED_FORMAT'],
      ['notes.jpg', Buffer.from('just some text\nnot an image\n'), 'UNSUPPORTED_FORMAT'],
      ['header-only.jpg', good.subarray(0, 200), 'IMAGE_DECODE'],
    ];
    for (const [label, bytes, code] of cases) {
      const error = await rejection(preprocessImage(bytes, defaults, label));
      expect(error.code, label).toBe(code);
      expect(error.retryable, label).toBe(false);
      expect(error.message, label).toContain(label);
    }
  });

  it('refuses images over limitInputPixels before decoding them', async () => {
    const big = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const error = await rejection(
      preprocessImage(big, resolvePreprocessOptions({ limitInputPixels: 5_000_000 }), 'big.png'),
    );
    expect(error.code).toBe('PIXEL_LIMIT');
    expect(error.message).toContain('big.png');
  });
});

describe('optimizeImage', () => {
  it('takes a path, a Buffer, a data URI and base64 and agrees on the result', async () => {
    const path = corpus('car-plate3.jpg');
    const bytes = await readFile(path);
    const fromPath = await optimizeImage(path);
    const fromBuffer = await optimizeImage(bytes);
    const fromDataUri = await optimizeImage(`data:image/jpeg;base64,${bytes.toString('base64')}`);
    const fromBase64 = await optimizeImage({ base64: bytes.toString('base64'), name: 'plate' });
    for (const result of [fromBuffer, fromDataUri, fromBase64]) {
      expect(result.sha256).toBe(fromPath.sha256);
      expect(result.data.equals(fromPath.data)).toBe(true);
    }
    expect(fromPath.input).toBe(path);
    expect(fromBase64.input).toBe('plate');
  });

  it('validates options and names the bad option and value', async () => {
    const error = await rejection(optimizeImage(corpus('car-plate3.jpg'), { quality: 150 }));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('quality');
    expect(error.message).toContain('150');
    const profile = await rejection(
      optimizeImage(corpus('car-plate3.jpg'), { profile: 'huge' as 'max2048' }),
    );
    expect(profile.message).toContain('profile');
    const crop = await rejection(optimizeImage(corpus('car-plate3.jpg'), { crop: '1,2,3' }));
    expect(crop.option).toBe('crop');
  });

  it('enforces maxInputBytes on every source kind', async () => {
    const bytes = await readFile(corpus('car-plate3.jpg'));
    for (const source of [corpus('car-plate3.jpg'), bytes, { base64: bytes.toString('base64') }]) {
      const error = await rejection(optimizeImage(source, { maxInputBytes: 1000 }));
      expect(error.code).toBe('INPUT_TOO_LARGE');
    }
  });

  it('reports a missing file as NOT_FOUND', async () => {
    const error = await rejection(optimizeImage('/nonexistent/visionpipe/nope.jpg'));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('nope.jpg');
  });
});
