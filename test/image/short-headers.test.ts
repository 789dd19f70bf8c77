/**
 * Every reader of file headers (format sniffing, document kinds, the metadata caps of PNG,
 * JPEG, WebP, GIF, TIFF and HEIF/AVIF, JPEG quality and stripping) on short and damaged
 * inputs: the first 0…600 bytes of real files, then damaged copies. None may throw anything
 * but a VisionpipeError naming the input: a read past the end surfaced as an INTERNAL record
 * (`"offset" is outside of buffer bounds` for a 3-byte `.jpg`).
 *
 * The bytes live in an ArrayBuffer of exactly their size, as `readFile` gives them: a small
 * `Buffer.from(...)` sits in Node's shared 8 KB pool, where a read past its end still lands
 * inside the pool and nothing fails, which is how the defect stayed hidden.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDocument } from '../../src/documents/document.js';
import { documentKind } from '../../src/documents/kinds.js';
import { VisionpipeError } from '../../src/errors.js';
import { admitImage, metadataBytes } from '../../src/image/admit.js';
import {
  gifMetadataBytes,
  heifMetadataBytes,
  tiffMetadataBytes,
} from '../../src/image/container-metadata.js';
import { perceptualHash } from '../../src/image/fingerprint.js';
import { estimateJpegQuality, stripJpegMetadata } from '../../src/image/jpeg-segments.js';
import { describeImage } from '../../src/image/preprocess.js';
import { SIZE_PROFILES } from '../../src/image/profiles.js';
import { type ImageFormat, sniffFormat } from '../../src/image/sniff.js';
import { createPipeline } from '../../src/index.js';
import { HEIC_SAMPLE, makePdf } from '../support/documents.js';
import { corpus, seededBytes } from '../support/images.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FORMATS: readonly ImageFormat[] = ['png', 'jpeg', 'webp', 'gif', 'tiff', 'avif'];

/** The first `n` bytes of `source` in an ArrayBuffer of exactly `n` bytes (no pool around them). */
function exactPrefix(source: Uint8Array, n: number): Buffer {
  const bytes = Buffer.from(new ArrayBuffer(n));
  bytes.set(source.subarray(0, n));
  return bytes;
}

const samples = new Map<string, Buffer>();

beforeAll(async () => {
  const jpeg = await readFile(corpus('invoice1.jpg'));
  const small = sharp(jpeg).resize(200);
  samples.set('jpg', jpeg);
  samples.set('png', await readFile(corpus('document-classification1.png')));
  samples.set('tif', await small.clone().tiff().toBuffer());
  samples.set('webp', await small.clone().webp().toBuffer());
  samples.set('gif', await small.clone().gif().toBuffer());
  samples.set('avif', await small.clone().avif().toBuffer());
  samples.set('heic', await readFile(HEIC_SAMPLE));
  samples.set('pdf', await makePdf([{ lines: ['Invoice 7', 'Total 12.50'] }]));
});

/** Calls every synchronous header reader; returns what threw other than a VisionpipeError. */
function headerReaderFailures(bytes: Buffer): string[] {
  const readers: Record<string, () => unknown> = {
    sniffFormat: () => sniffFormat(bytes),
    documentKind: () => documentKind(bytes),
    admitImage: () => admitImage(bytes, 'odd.bin'),
    tiffMetadataBytes: () => tiffMetadataBytes(bytes),
    heifMetadataBytes: () => heifMetadataBytes(bytes),
    gifMetadataBytes: () => gifMetadataBytes(bytes),
    estimateJpegQuality: () => estimateJpegQuality(bytes),
    stripJpegMetadata: () => stripJpegMetadata(bytes),
    ...Object.fromEntries(
      FORMATS.map((format) => [`metadataBytes ${format}`, () => metadataBytes(bytes, format)]),
    ),
  };
  const failures: string[] = [];
  for (const [name, read] of Object.entries(readers)) {
    try {
      read();
    } catch (error) {
      if (!(error instanceof VisionpipeError)) failures.push(`${name}: ${(error as Error).message}`);
      else if (!error.message.includes('odd.bin')) failures.push(`${name}: does not name the input`);
    }
  }
  return failures;
}

describe('header readers on short and damaged inputs', () => {
  it('never read past the end of any prefix of a real JPEG, PNG, TIFF, WebP, GIF, AVIF, HEIC or PDF', () => {
    const failures: string[] = [];
    for (const [name, source] of samples) {
      const lengths = new Set<number>();
      for (let n = 0; n <= Math.min(source.length, 600); n++) lengths.add(n);
      for (let n = 600; n < source.length; n += 97) lengths.add(n);
      for (const n of lengths) {
        for (const failure of headerReaderFailures(exactPrefix(source, n)))
          failures.push(`${name}[0..${n}) ${failure}`);
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('never read out of bounds on damaged headers (random bytes overwritten in prefixes)', () => {
    const failures: string[] = [];
    let seed = 1;
    for (const [name, source] of samples) {
      for (let trial = 0; trial < 1500; trial++) {
        const noise = seededBytes(16, seed++);
        const bytes = exactPrefix(source, noise.readUInt16BE(0) % Math.min(source.length, 1200));
        for (let k = 0; k < 1 + (noise[2]! % 6) && bytes.length > 0; k++) {
          bytes[noise.readUInt16BE(3 + 2 * k) % Math.min(bytes.length, 300)] = noise[15 - k]!;
        }
        for (const failure of headerReaderFailures(bytes))
          failures.push(`${name} trial ${trial}: ${failure}`);
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('name inputs cut short inside a signature as cut short, 3 bytes of text as text', () => {
    const png = samples.get('png')!;
    expect(sniffFormat(exactPrefix(png, 3))).toMatchObject({ kind: 'truncated' });
    expect(sniffFormat(exactPrefix(samples.get('jpg')!, 2))).toMatchObject({ kind: 'truncated' });
    expect(sniffFormat(exactPrefix(samples.get('heic')!, 8))).toMatchObject({ kind: 'truncated' });
    expect(sniffFormat(exactPrefix(Buffer.from('hi\n'), 3))).toMatchObject({ kind: 'text' });
    expect(sniffFormat(exactPrefix(Buffer.from('M'), 1))).toMatchObject({ kind: 'text' });
  });

  it('decoders and documents answer short inputs with typed errors naming the input', async () => {
    const failures: string[] = [];
    const check = async (what: string, run: () => Promise<unknown>) => {
      try {
        await run();
        failures.push(`${what}: accepted`);
      } catch (error) {
        if (!(error instanceof VisionpipeError)) failures.push(`${what}: ${(error as Error).message}`);
        else if (!error.message.includes('odd.bin')) failures.push(`${what}: does not name the input`);
      }
    };
    for (const [name, source] of samples) {
      for (const n of [0, 1, 2, 3, 8, 16, 100]) {
        const bytes = exactPrefix(source, n);
        const what = `${name}[0..${n})`;
        await check(`${what} describeImage`, () =>
          describeImage(bytes, 'odd.bin', { limitInputPixels: 1e8 }),
        );
        await check(`${what} perceptualHash`, () => perceptualHash(bytes, { label: 'odd.bin' }));
        if (documentKind(bytes)) {
          await check(`${what} openDocument`, async () => {
            const document = await openDocument(bytes, 'odd.bin', { limits: SIZE_PROFILES.max2048 });
            try {
              for await (const _page of document);
            } finally {
              document.close();
            }
          });
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('the library pipeline gives typed error records for them and an ok record for the good input', async () => {
    const pipeline = await createPipeline({
      pattern: path.join(ROOT, 'samples/patterns/receipt.yaml'),
      cache: { spec: 'memory' },
    });
    try {
      for (const [name, source] of samples) {
        for (const n of [0, 3, 8, 16, 100]) {
          const record = await pipeline.process({ bytes: exactPrefix(source, n), name: `head${n}.${name}` });
          expect(record.status, `${name}[0..${n})`).toBe('error');
          expect(record.error?.code, `${name}[0..${n}): ${record.error?.message}`).toMatch(
            /^(EMPTY_INPUT|UNSUPPORTED_FORMAT|IMAGE_DECODE|DOCUMENT_DAMAGED)$/,
          );
          expect(record.error?.message).toContain(`head${n}.${name}`);
        }
      }
      const good = await pipeline.process(path.join(ROOT, 'samples/images/receipt-004.jpg'));
      expect(good.status).toBe('ok');
    } finally {
      await pipeline.close();
    }
  });
});
