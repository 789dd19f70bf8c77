/**
 * Inputs that should not cost what they cost (issue 12): every option gives the same record
 * code for the same bad input, because every path sniffs and caps before decoding
 * (image/admit.ts); oversized metadata is refused from chunk headers, before libvips copies it.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitImage, DEFAULT_MAX_METADATA_BYTES, metadataBytes } from '../../src/image/admit.js';
import { perceptualHash } from '../../src/image/fingerprint.js';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { pngBomb, tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';

/** A PNG chunk with its CRC. */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** `png` with an extra chunk right after IHDR. */
function withChunk(png: Buffer, type: string, size: number): Buffer {
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  return Buffer.concat([
    png.subarray(0, ihdrEnd),
    chunk(type, Buffer.alloc(size, 0x41)),
    png.subarray(ihdrEnd),
  ]);
}

/** A JPEG with `count` APP1 segments of ~64 KB each after SOI. */
function jpegWithApp1(jpeg: Buffer, count: number): Buffer {
  const segment = Buffer.alloc(2 + 2 + 65_533, 0x42);
  segment[0] = 0xff;
  segment[1] = 0xe1;
  segment.writeUInt16BE(65_535, 2);
  return Buffer.concat([
    jpeg.subarray(0, 2),
    ...Array.from({ length: count }, () => segment),
    jpeg.subarray(2),
  ]);
}

let small: Buffer;
let jpeg: Buffer;
let noisy: Buffer;
beforeAll(async () => {
  // 64×64 noise: its IDAT is large, so half the file keeps a whole header and a cut IDAT.
  noisy = await sharp(Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251)), {
    raw: { width: 64, height: 64, channels: 3 },
  })
    .png()
    .toBuffer();
  small = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } })
    .png()
    .toBuffer();
  jpeg = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } })
    .jpeg()
    .toBuffer();
});

describe('metadata caps, from chunk headers', () => {
  it('counts PNG text/EXIF chunks, JPEG APPn/COM segments and WebP EXIF/XMP/ICCP chunks', async () => {
    expect(metadataBytes(small, 'png')).toBeLessThan(1024);
    expect(metadataBytes(withChunk(small, 'eXIf', 100_000), 'png')).toBeGreaterThanOrEqual(100_000);
    expect(metadataBytes(withChunk(small, 'zTXt', 5_000), 'png')).toBeGreaterThanOrEqual(5_000);
    expect(metadataBytes(withChunk(small, 'IDAT', 5_000), 'png')).toBeLessThan(1024); // pixels are not metadata
    expect(metadataBytes(jpegWithApp1(jpeg, 3), 'jpeg')).toBeGreaterThanOrEqual(3 * 65_535);
    const webp = await sharp(jpeg)
      .webp()
      .withExif({ IFD0: { ImageDescription: 'x'.repeat(20_000) } })
      .toBuffer();
    expect(metadataBytes(webp, 'webp')).toBeGreaterThanOrEqual(20_000);
  });

  it('refuses past the limit as METADATA_LIMIT, accepts below it', () => {
    const bloated = withChunk(small, 'eXIf', DEFAULT_MAX_METADATA_BYTES + 1);
    expect(() => admitImage(bloated, 'bloated.png')).toThrow(
      expect.objectContaining({ code: 'METADATA_LIMIT' }),
    );
    expect(admitImage(withChunk(small, 'eXIf', 1000), 'fine.png')).toBe('png');
    expect(() => admitImage(jpegWithApp1(jpeg, 40), 'app1.jpg')).toThrow(
      expect.objectContaining({ code: 'METADATA_LIMIT' }),
    );
    expect(() => admitImage(withChunk(small, 'eXIf', 5000), 'x.png', { maxMetadataBytes: 4000 })).toThrow(
      '5000 bytes of metadata',
    );
  });
});

describe('the same bad input gets the same code with every option', () => {
  let server: CompatibleServer;
  let dir: string;
  const inputs: Array<[string, () => Promise<Buffer | string>, string]> = [
    [
      'an SVG',
      async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
      'UNSUPPORTED_FORMAT',
    ],
    ['a text file', async () => Buffer.from('total: 12.50\nvendor: ACME\n'), 'UNSUPPORTED_FORMAT'],
    [
      'an HTML page',
      async () => Buffer.from('<!doctype html><html><body>hi</body></html>'),
      'UNSUPPORTED_FORMAT',
    ],
    ['an empty file', async () => Buffer.alloc(0), 'EMPTY_INPUT'],
    ['a truncated JPEG', async () => jpeg.subarray(0, 40), 'IMAGE_DECODE'],
    ['a truncated PNG', async () => noisy.subarray(0, Math.floor(noisy.length / 2)), 'IMAGE_DECODE'],
    [
      'a 16×16 PNG with a 30 MB eXIf chunk',
      async () => withChunk(small, 'eXIf', 30 * 1024 * 1024),
      'METADATA_LIMIT',
    ],
    ['a decompression bomb', async () => pngBomb(path.join(dir, 'bombs'), 12_000), 'PIXEL_LIMIT'],
  ];

  beforeAll(async () => {
    server = await startCompatibleServer('{"vendor_name": "X"}');
    dir = await tempDir();
  });
  afterAll(() => server.close());

  const pattern = parsePattern(
    { name: 'S', format: 'json', instructions: 'x', json_schema: { vendor_name: 'string' } },
    's.json',
  );

  it.each(inputs)('%s', async (name, make, code) => {
    const made = await make();
    const file = typeof made === 'string' ? made : path.join(dir, `${name.replace(/\W+/g, '-')}.bin`);
    if (typeof made !== 'string') await writeFile(file, made);
    const codes: string[] = [];
    const messages: string[] = [];
    for (const nearDuplicateDistance of [undefined, 4]) {
      const pipeline = await createPipeline({
        pattern,
        provider: new OpenAIProvider({
          baseUrl: server.baseUrl,
          apiKey: 'sk-test-admit-0000',
          timeoutMs: 5000,
        }),
        model: 'gpt-4.1-mini',
        preprocess: { limitInputPixels: 50_000_000 },
        ...(nearDuplicateDistance === undefined ? {} : { nearDuplicateDistance }),
      });
      const record = await pipeline.process(file);
      codes.push(record.error?.code ?? record.status);
      messages.push(record.error?.message ?? '');
      await pipeline.close();
    }
    expect(codes).toEqual([code, code]);
    // One wording too: --near-dup must not say the same fault differently.
    expect(messages[1]).toBe(messages[0]);
    await expect(
      perceptualHash(await import('node:fs/promises').then((fs) => fs.readFile(file)), {
        limitInputPixels: 50_000_000,
      }),
    ).rejects.toMatchObject({ code });
    expect(server.calls).toHaveLength(0);
  });
});
