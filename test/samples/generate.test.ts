import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { createWorker } from 'tesseract.js';
import { describe, expect, it } from 'vitest';
import {
  type Category,
  formatAmount,
  generateWorkload,
  type InvoiceTruth,
  makeInvoiceSpec,
  makeReceiptSpec,
  PHOTO_HEIGHT,
  PHOTO_WIDTH,
  planWorkload,
  type ReceiptTruth,
  renderInvoice,
  renderReceipt,
  type TruthRecord,
} from '../../samples/scripts/generate.js';
import { hammingDistance, perceptualHash } from '../../src/image/fingerprint.js';
import { tempDir } from '../support/images.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const IMAGES = path.join(ROOT, 'samples/images');
const records: TruthRecord[] = readFileSync(path.join(ROOT, 'samples/truth.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as TruthRecord);
const byInput = new Map(records.map((record) => [record.input, record]));
const bytesOf = (input: string) => readFile(path.join(ROOT, input));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const cents = (n: number) => Math.round(n * 100);
const ISO = /^\d{4}-\d{2}-\d{2}$/;
const CATEGORIES: Category[] = ['meals', 'travel', 'office_supplies', 'fuel', 'lodging', 'other'];

describe('generator', () => {
  it('gives byte-identical images for the same seed, and different ones for another seed', async () => {
    const [r1, r2, r3] = await Promise.all([
      renderReceipt(makeReceiptSpec(42)),
      renderReceipt(makeReceiptSpec(42)),
      renderReceipt(makeReceiptSpec(43)),
    ]);
    expect(r1.equals(r2)).toBe(true);
    expect(r1.equals(r3)).toBe(false);
    const [i1, i2] = await Promise.all([
      renderInvoice(makeInvoiceSpec(42)),
      renderInvoice(makeInvoiceSpec(42)),
    ]);
    expect(i1.equals(i2)).toBe(true);
    expect(sha256(i1)).not.toBe(sha256(r1));
  });

  it('validates workload counts, naming the option', () => {
    const base = {
      count: 10,
      duplicates: 0,
      nearDuplicates: 0,
      irrelevant: 0,
      photos12mp: 0,
      rotated: 0,
      alpha: 0,
      invoiceShare: 0.5,
      seed: 1,
    };
    expect(() => planWorkload({ ...base, duplicates: 10 })).toThrow(/no documents/);
    expect(() => planWorkload({ ...base, photos12mp: 11 })).toThrow(/photos12mp/);
    expect(() => planWorkload({ ...base, rotated: 1.5 })).toThrow(/rotated must be a non-negative integer/);
  });

  it('streams a workload to disk in plan order, the same whatever the concurrency', async () => {
    const counts = {
      count: 10,
      duplicates: 2,
      nearDuplicates: 1,
      irrelevant: 2,
      photos12mp: 0,
      rotated: 1,
      alpha: 1,
      invoiceShare: 0.5,
      seed: 7,
    };
    const read = async (out: string) =>
      (await readFile(path.join(out, 'truth.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as TruthRecord);
    const a = await tempDir();
    const b = await tempDir();
    await generateWorkload({ ...counts, out: a, pathBase: a, concurrency: 1 });
    await generateWorkload({ ...counts, out: b, pathBase: b, concurrency: 3 });
    const ra = await read(a);
    const rb = await read(b);
    expect(ra).toHaveLength(10);
    expect(ra).toEqual(rb);
    expect(ra.filter((r) => r.variant === 'duplicate')).toHaveLength(2);
    expect(ra.filter((r) => r.variant === 'near-duplicate')).toHaveLength(1);
    expect(ra.filter((r) => !r.relevant && r.variant === 'non-document')).toHaveLength(2);
    for (const record of ra) {
      expect(record.input).toMatch(/^images\/[a-z]+-\d{3}(-[a-z]+)?\.(jpg|png)$/);
      expect(sha256(await readFile(path.join(a, record.input)))).toBe(record.sha256);
    }
  });
});

describe('committed samples', () => {
  it('lists every image with its sha256, and nothing else', async () => {
    const listed = records.map((r) => r.input).sort();
    const onDisk = readdirSync(IMAGES)
      .map((name) => `samples/images/${name}`)
      .sort();
    expect(listed).toEqual(onDisk);
    for (const record of records) {
      expect(sha256(await bytesOf(record.input)), record.input).toBe(record.sha256);
    }
  });

  it('has the intended mix', () => {
    const count = (variant: string) => records.filter((r) => r.variant === variant).length;
    expect(count('photo12mp')).toBe(2);
    expect(count('exif-rotated')).toBe(2);
    expect(count('alpha')).toBe(1);
    expect(count('duplicate')).toBe(2);
    expect(count('near-duplicate')).toBe(2);
    expect(count('non-document')).toBe(3);
    const originals = records.filter((r) => r.duplicate_of === null && r.relevant);
    expect(originals.filter((r) => r.pattern === 'receipt')).toHaveLength(8);
    expect(originals.filter((r) => r.pattern === 'invoice')).toHaveLength(6);
  });

  it('has well-formed, internally consistent truth', () => {
    for (const record of records) {
      expect(Object.keys(record)).toEqual([
        'input',
        'sha256',
        'pattern',
        'relevant',
        'variant',
        'duplicate_of',
        'truth',
      ]);
      if (!record.relevant) {
        expect(record.pattern).toBeNull();
        expect(record.truth).toBeNull();
        continue;
      }
      if (record.pattern === 'receipt') {
        const truth = record.truth as ReceiptTruth;
        expect(Object.keys(truth)).toEqual(['merchant_name', 'date', 'total_amount', 'category']);
        expect(truth.date).toMatch(ISO);
        expect(CATEGORIES).toContain(truth.category);
        expect(truth.total_amount).toBeGreaterThan(0);
        expect(cents(truth.total_amount) / 100).toBe(truth.total_amount);
      } else {
        const truth = record.truth as InvoiceTruth;
        expect(Object.keys(truth)).toEqual([
          'vendor_name',
          'invoice_number',
          'invoice_date',
          'due_date',
          'currency',
          'subtotal',
          'tax',
          'total',
          'line_items',
        ]);
        expect(truth.invoice_date).toMatch(ISO);
        if (truth.due_date !== null) {
          expect(truth.due_date).toMatch(ISO);
          expect(truth.due_date > truth.invoice_date).toBe(true);
        }
        expect(['USD', 'EUR', 'GBP']).toContain(truth.currency);
        expect(truth.line_items.length).toBeGreaterThanOrEqual(1);
        expect(truth.line_items.length).toBeLessThanOrEqual(5);
        let sum = 0;
        for (const item of truth.line_items) {
          expect(Object.keys(item)).toEqual(['description', 'quantity', 'unit_price', 'amount']);
          expect(cents(item.amount)).toBe(item.quantity * cents(item.unit_price));
          sum += cents(item.amount);
        }
        expect(cents(truth.subtotal)).toBe(sum);
        expect(cents(truth.total)).toBe(cents(truth.subtotal) + cents(truth.tax));
      }
    }
  });

  it('stores EXIF-rotated scans sideways with orientation 6 or 8, upright after auto-orient', async () => {
    const rotated = records.filter((r) => r.variant === 'exif-rotated');
    expect(
      new Set(
        await Promise.all(
          rotated.map(async (r) => (await sharp(await bytesOf(r.input)).metadata()).orientation),
        ),
      ),
    ).toEqual(new Set([6, 8]));
    for (const record of rotated) {
      const bytes = await bytesOf(record.input);
      const stored = await sharp(bytes).metadata();
      const upright = await sharp(bytes, { autoOrient: true }).toBuffer({ resolveWithObject: true });
      expect(upright.info.width).toBe(stored.height);
      expect(upright.info.height).toBe(stored.width);
      // Documents are portrait pages: stored landscape, shown portrait.
      expect(stored.width).toBeGreaterThan(stored.height);
      expect(upright.info.height).toBeGreaterThan(upright.info.width);
      // Upright, the page's header (dark text) is at the top: the top band is darker than the bottom margin.
      const grey = await sharp(upright.data).greyscale().resize(1, 20, { fit: 'fill' }).raw().toBuffer();
      expect(Math.min(...grey.subarray(0, 4))).toBeLessThan(grey[19]!);
    }
  });

  it('has a PNG with a real alpha channel', async () => {
    const [record] = records.filter((r) => r.variant === 'alpha');
    const bytes = await bytesOf(record!.input);
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('png');
    expect(meta.hasAlpha).toBe(true);
    expect(meta.channels).toBe(4);
    const alpha = await sharp(bytes).extractChannel('alpha').stats();
    expect(alpha.channels[0]!.min).toBe(0);
    expect(alpha.channels[0]!.max).toBe(255);
  });

  it('has 12 MP phone photos as 4000×3000 JPEGs', async () => {
    for (const record of records.filter((r) => r.variant === 'photo12mp')) {
      const meta = await sharp(await bytesOf(record.input)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', PHOTO_WIDTH, PHOTO_HEIGHT]);
    }
  });

  it('has byte-identical duplicates and re-encoded near-duplicates of their originals', async () => {
    for (const record of records.filter((r) => r.duplicate_of !== null)) {
      const original = byInput.get(record.duplicate_of!)!;
      expect(original.duplicate_of).toBeNull();
      expect(record.truth).toEqual(original.truth);
      const [copy, source] = await Promise.all([bytesOf(record.input), bytesOf(original.input)]);
      if (record.variant === 'duplicate') {
        expect(copy.equals(source)).toBe(true);
        expect(record.sha256).toBe(original.sha256);
      } else {
        expect(record.variant).toBe('near-duplicate');
        expect(copy.equals(source)).toBe(false);
        expect(record.sha256).not.toBe(original.sha256);
        expect(hammingDistance(await perceptualHash(copy), await perceptualHash(source))).toBeLessThanOrEqual(
          6,
        );
      }
    }
  });

  it('is legible to the local OCR engine (tesseract.js, offline)', async () => {
    const record = records.find((r) => r.pattern === 'receipt' && r.variant === 'clean')!;
    const truth = record.truth as ReceiptTruth;
    const require = createRequire(import.meta.url);
    const { langPath } = require('@tesseract.js-data/eng') as { langPath: string };
    const worker = await createWorker('eng', 1, { langPath, gzip: true, cacheMethod: 'none' });
    try {
      const { data } = await worker.recognize(await bytesOf(record.input));
      const text = data.text.replace(/\s+/g, ' ').toLowerCase();
      expect(text).toContain(truth.merchant_name.toLowerCase());
      const total = cents(truth.total_amount);
      expect(
        [formatAmount(total, false), formatAmount(total, true)].some((form) => text.includes(form)),
      ).toBe(true);
    } finally {
      await worker.terminate();
    }
  });
});
