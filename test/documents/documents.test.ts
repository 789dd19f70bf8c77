import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { openDocument } from '../../src/documents/document.js';
import { documentKind } from '../../src/documents/kinds.js';
import { formatPages, parsePageRange, selectPages } from '../../src/documents/page-range.js';
import { VisionpipeError } from '../../src/errors.js';
import { SIZE_PROFILES } from '../../src/image/profiles.js';
import {
  brokenPdf,
  emptyPdf,
  encryptedPdf,
  HEIC_SAMPLE,
  makePdf,
  multiPageTiff,
  numberedPages,
  textImage,
} from '../support/documents.js';
import { failure } from '../support/failure.js';
import { corpus } from '../support/images.js';

const OPENAI_HIGH = SIZE_PROFILES['openai-high'];
const NONE = SIZE_PROFILES.none;

async function collect(doc: AsyncIterable<{ page: number }>): Promise<number[]> {
  const seen: number[] = [];
  for await (const page of doc) seen.push(page.page);
  return seen;
}

describe('page ranges', () => {
  it('parses spans, single pages and open ends, and selects sorted unique pages', () => {
    expect(parsePageRange('1-3,7')).toEqual([
      { from: 1, to: 3 },
      { from: 7, to: 7 },
    ]);
    expect(selectPages(parsePageRange('7, 2-3 ,1-2'), 9, 'a.pdf')).toEqual([1, 2, 3, 7]);
    expect(selectPages(parsePageRange('8-'), 9, 'a.pdf')).toEqual([8, 9]);
    expect(selectPages(undefined, 3, 'a.pdf')).toEqual([1, 2, 3]);
    expect(formatPages([1, 2, 3, 7, 9, 10])).toBe('1-3,7,9-10');
  });

  it('refuses malformed ranges as INVALID_OPTION naming the option', () => {
    for (const bad of ['', '0', '3-1', 'a', '1,,2', '1-2-3', '-4']) {
      const error = (() => {
        try {
          parsePageRange(bad);
        } catch (e) {
          return e as VisionpipeError;
        }
        return undefined;
      })();
      expect(error?.code, bad).toBe('INVALID_OPTION');
      expect(error?.option).toBe('pageRange');
    }
  });

  it('names the input and its page count when the range asks for a missing page', () => {
    expect(() => selectPages(parsePageRange('2-4'), 3, 'deck.pdf')).toThrow(/deck\.pdf.*page 4.*3 pages/);
    expect(() => selectPages(parsePageRange('5'), 3, 'deck.pdf')).toThrow(VisionpipeError);
  });
});

describe('PDF pages', () => {
  it('renders each page at the size the profile keeps, not at a fixed DPI', async () => {
    const pdf = await makePdf(numberedPages(2));
    expect(documentKind(pdf)).toBe('pdf');
    const forOpenAi = await openDocument(pdf, 'two.pdf', { limits: OPENAI_HIGH });
    const page = await forOpenAi.render(1);
    // Letter at 300 DPI is 2550×3300; openai-high keeps a short side of 768.
    expect([page.width, page.height]).toEqual([768, 994]);
    expect((await sharp(page.data).metadata()).format).toBe('jpeg');
    forOpenAi.close();
    const unbounded = await openDocument(pdf, 'two.pdf', { limits: NONE, maxDpi: 150 });
    const full = await unbounded.render(2);
    expect([full.width, full.height]).toEqual([1275, 1650]);
    unbounded.close();
  });

  it('turns rotated pages upright and gives the same bytes for the same page every time', async () => {
    const pdf = await makePdf([{ lines: ['landscape'], rotate: 90 }, { lines: ['portrait'] }]);
    const doc = await openDocument(pdf, 'rot.pdf', { limits: SIZE_PROFILES.anthropic });
    const rotated = await doc.render(1);
    expect(rotated.width).toBeGreaterThan(rotated.height);
    const again = await doc.render(1);
    expect(again.data.equals(rotated.data)).toBe(true);
    const upright = await doc.render(2);
    expect(upright.width).toBeLessThan(upright.height);
    doc.close();
  });

  it('tells blank pages from text pages and from scanned pages', async () => {
    const scan = await sharp(corpus('invoice1.jpg')).jpeg().toBuffer();
    const pdf = await makePdf([{ lines: ['Invoice 17', 'Total 42.50'] }, {}, { scan }, { lines: ['3'] }]);
    const doc = await openDocument(pdf, 'mixed.pdf', { limits: OPENAI_HIGH });
    const pages = [];
    for await (const page of doc) pages.push(page);
    expect(pages.map((p) => p.blank)).toEqual([false, true, false, true]);
    expect(pages[1]!.ink).toBe(0);
    expect(pages[0]!.ink).toBeGreaterThan(0.0003);
    doc.close();
  });

  it('applies --page-range before rendering and --max-pages after it', async () => {
    const pdf = await makePdf(numberedPages(60, 2));
    const error = await failure(openDocument(pdf, 'long.pdf', { limits: OPENAI_HIGH }));
    expect(error.code).toBe('TOO_MANY_PAGES');
    expect(error.message).toMatch(/long\.pdf: 60 pages selected, over --max-pages 50/);
    const doc = await openDocument(pdf, 'long.pdf', {
      limits: OPENAI_HIGH,
      pageRange: parsePageRange('1-3,7,58-'),
    });
    expect(doc.pageCount).toBe(60);
    expect(await collect(doc)).toEqual([1, 2, 3, 7, 58, 59, 60]);
    doc.close();
    const narrow = await failure(
      openDocument(pdf, 'long.pdf', { limits: OPENAI_HIGH, maxPages: 2, pageRange: parsePageRange('1-3') }),
    );
    expect(narrow.code).toBe('TOO_MANY_PAGES');
    const missing = await failure(
      openDocument(pdf, 'long.pdf', { limits: OPENAI_HIGH, pageRange: parsePageRange('61') }),
    );
    expect(missing.code).toBe('PAGE_OUT_OF_RANGE');
  });

  it('refuses encrypted, broken and empty PDFs with typed errors naming the input', async () => {
    const encrypted = await failure(
      openDocument(await encryptedPdf(), 'locked.pdf', { limits: OPENAI_HIGH }),
    );
    expect(encrypted.code).toBe('DOCUMENT_ENCRYPTED');
    expect(encrypted.input).toBe('locked.pdf');
    expect(encrypted.message).toMatch(/^locked\.pdf: .*password/);
    const broken = await failure(openDocument(brokenPdf(), 'broken.pdf', { limits: OPENAI_HIGH }));
    expect(broken.code).toBe('DOCUMENT_DAMAGED');
    expect(broken.message).toMatch(/^broken\.pdf: /);
    const empty = await failure(openDocument(await emptyPdf(), 'empty.pdf', { limits: OPENAI_HIGH }));
    expect(empty.code).toBe('DOCUMENT_EMPTY');
    expect(empty.input).toBe('empty.pdf');
    const good = await makePdf(numberedPages(3));
    const truncated = await failure(openDocument(good.subarray(0, 200), 'cut.pdf', { limits: OPENAI_HIGH }));
    expect(['DOCUMENT_DAMAGED', 'DOCUMENT_EMPTY']).toContain(truncated.code);
  });
});

describe('multi-page TIFF', () => {
  it('reads every page, each fitted to the profile', async () => {
    const pages = await Promise.all(
      ['first page', 'second page', 'third page'].map((line) => textImage([line], 1200, 1600)),
    );
    const tiff = await multiPageTiff(pages);
    expect(documentKind(tiff)).toBe('tiff');
    const doc = await openDocument(tiff, 'fax.tiff', { limits: SIZE_PROFILES.anthropic });
    expect(doc.pageCount).toBe(3);
    const rendered = [];
    for await (const page of doc) rendered.push(page);
    expect(rendered.map((p) => [p.page, p.width, p.height])).toEqual([
      [1, 929, 1237],
      [2, 929, 1237],
      [3, 929, 1237],
    ]);
    // Each page is its own picture, not the first one three times.
    expect(new Set(rendered.map((p) => p.data.toString('base64'))).size).toBe(3);
    expect(rendered.every((p) => !p.blank)).toBe(true);
  });
});

describe('HEIC', () => {
  it('decodes a phone-style HEIC that sharp alone cannot', async () => {
    const bytes = await readFile(HEIC_SAMPLE);
    expect(documentKind(bytes)).toBe('heic');
    await expect(
      sharp(bytes)
        .metadata()
        .then(() => sharp(bytes).toBuffer()),
    ).rejects.toThrow();
    const doc = await openDocument(bytes, 'phone.heic', { limits: SIZE_PROFILES.triage });
    expect(doc.pageCount).toBe(1);
    const page = await doc.render(1);
    expect([page.width, page.height]).toEqual([192, 256]);
    expect(page.blank).toBe(false);
  });

  it('refuses a truncated HEIC as DOCUMENT_DAMAGED naming the input', async () => {
    const bytes = await readFile(HEIC_SAMPLE);
    const error = await failure(openDocument(bytes.subarray(0, 400), 'cut.heic', { limits: OPENAI_HIGH }));
    expect(error.code).toBe('DOCUMENT_DAMAGED');
    expect(error.message).toMatch(/^cut\.heic: /);
  });
});
