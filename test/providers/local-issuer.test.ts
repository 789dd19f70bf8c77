/**
 * The local engine's issuer reader (vendor, merchant, manufacturer without a label): a
 * name is given only with evidence beyond its place on the page, and its confidence says
 * how much. A country under a logo, a template's placeholder, a heading, a line item or
 * the customer's name is never the vendor; a name with no more evidence than its position
 * scores under the calibrated threshold and the field is null (confidence 0).
 * Synthetic OCR pages: the words and boxes tesseract gives for left-aligned text.
 */
import { describe, expect, it } from 'vitest';
import type { ObjectSchema } from '../../src/patterns/types.js';
import { LOCAL_ISSUER_MIN_CONFIDENCE } from '../../src/providers/local/calibration.js';
import { extractFields } from '../../src/providers/local/field-extractor.js';
import { readIssuer } from '../../src/providers/local/issuer.js';
import { buildLayout } from '../../src/providers/local/layout.js';
import type { OcrLine, OcrPage } from '../../src/providers/local/ocr-engine.js';
import { stackPages } from '../../src/providers/local/stack-pages.js';

const schema: ObjectSchema = {
  type: 'object',
  properties: {
    vendor_name: { type: 'string', description: "Seller's company name" },
    total: { type: 'number' },
  },
  required: [],
  additionalProperties: false,
};

/**
 * One line of text at row `row`, from x `x`: 12 px per character, 40 px per row; a double
 * space is a column gap (200 px), as between a line item's description and its amounts.
 */
function line(text: string, row: number, x = 60): OcrLine {
  let left = x;
  const y0 = 100 + row * 40;
  const words = text
    .split(/( {2})| /)
    .filter((w) => w !== undefined && w !== '')
    .map((word) => {
      if (word === '  ') {
        left += 200;
        return undefined;
      }
      const box = { x0: left, x1: left + word.length * 12, y0, y1: y0 + 24 };
      left = box.x1 + 12;
      return { text: word, confidence: 0.95, box };
    })
    .filter((w) => w !== undefined);
  return { text, words, box: { x0: x, x1: left - 12, y0, y1: y0 + 24 }, block: 0 };
}

/** A page of lines; `[text, row, x]` places a line elsewhere than the left margin. */
function page(lines: ReadonlyArray<string | [string, number, number]>, height = 1600): OcrPage {
  const placed = lines
    .map((l, i) => (typeof l === 'string' ? line(l, i) : line(l[0], l[1], l[2])))
    .filter((l) => l.text !== '');
  return { text: placed.map((l) => l.text).join('\n'), lines: placed, confidence: 0.95, width: 1200, height };
}

function vendor(p: OcrPage): { value: unknown; confidence: number | undefined } {
  const read = extractFields(p, schema);
  return { value: read.output.vendor_name, confidence: read.fieldConfidence['/vendor_name'] };
}

const field = {
  pointer: '/vendor_name',
  key: 'vendor_name',
  node: { type: 'string' as const },
  kind: 'name' as const,
};

describe('the issuer read without a label', () => {
  it('a company with its address block under it is the vendor, with a confidence over the threshold', () => {
    const read = vendor(
      page(['Northwind Traders Ltd', '12 Harbour Street', 'Leeds LS1 4AB', '', 'INVOICE', 'Total: 42.50']),
    );
    expect(read.value).toBe('Northwind Traders Ltd');
    expect(read.confidence).toBeGreaterThanOrEqual(LOCAL_ISSUER_MIN_CONFIDENCE);
  });

  it('a country under a logo is never the vendor ("AUSTRALIA"), even over an address', () => {
    expect(vendor(page(['INV24.COM', 'AUSTRALIA', '', 'Tax Invoice # 1930', 'Total: 1839.20']))).toEqual({
      value: null,
      confidence: 0,
    });
    const overAddress = page(['AUSTRALIA', '12 George Street', 'Sydney, NSW 2000', '', 'Total: 10.00']);
    expect(vendor(overAddress)).toEqual({ value: null, confidence: 0 });
  });

  it("a template's placeholder is never the vendor ('[My company name]')", () => {
    expect(vendor(page(['[My company name]', '[Address]', '', 'Total: 10.00'])).value).toBeNull();
  });

  it('a line item is never the vendor ("Gadgets 1 12.50"), on a page with no issuer', () => {
    const stacked = stackPages([
      page(['INVOICE', 'Description Qty Amount', 'Widgets 2 30.00']),
      page(['Gadgets 1 12.50', '', 'Total: $42.50']),
    ]);
    expect(vendor(stacked).value).toBeNull();
    // The line item alone on top of a page: still an item, not a name.
    expect(vendor(page(['Gadgets 1 12.50', 'Total: 12.50'])).value).toBeNull();
    // Nor a description in its column that reads like a company ("Consulting Services").
    const row = page([
      'Consulting Services  15  1,125.00',
      'Cost of various services, per hour',
      'Total: 1125.00',
    ]);
    expect(vendor(row).value).toBeNull();
  });

  it('a numbered heading is never the vendor ("I. Executive Summary", "Chapter 16 …")', () => {
    expect(vendor(page(['I. Executive Summary', 'The report provides an evaluation.'])).value).toBeNull();
    expect(vendor(page(['Chapter 16 Router Properties', 'Date and Time'])).value).toBeNull();
  });

  it("the customer's block is never the vendor, even with a company form and an address", () => {
    const p = page([
      'INVOICE',
      'Bill to',
      'Abhay Electric Agencies Ltd',
      'A-2040 Gurgaon, Haryana',
      'Total: 5.00',
    ]);
    expect(vendor(p).value).toBeNull();
    // …nor its twin elsewhere on the page without the label ("Place of Supply" beside it).
    const twin = page([
      'Bill to',
      ['Abhay Electric Agencies Ltd', 1, 60],
      ['Abhay Electric Agencies Ltd', 1, 700],
      ['A-2040 Gurgaon, Haryana', 2, 700],
    ]);
    expect(vendor(twin).value).toBeNull();
  });

  it('a name with no evidence but its place on top scores under the threshold: null, never a guess', () => {
    const p = page(['Blue Harbor', 'Total: 12.00']);
    expect(vendor(p)).toEqual({ value: null, confidence: 0 });
    // The reader found it, with too little evidence to give it.
    const found = readIssuer(field, buildLayout(p), new Set());
    expect(found?.value).toBe('Blue Harbor');
    expect(found?.confidence).toBeLessThan(LOCAL_ISSUER_MIN_CONFIDENCE);
    // A heading printed twice: more than the names' 0.35, still under the issuers' 0.45.
    const twice = page(['Device Properties', 'Table 16-1 Device Properties', 'Element Description']);
    expect(readIssuer(field, buildLayout(twice), new Set())?.confidence).toBeGreaterThan(0.35);
    expect(vendor(twice)).toEqual({ value: null, confidence: 0 });
  });

  it('the payee under "Make checks payable to" and the signatory "For <name>" are the issuer', () => {
    expect(vendor(page(['MAKE CHECKS PAYABLE TO:', 'Jefferson Healthcare', 'Total: 39.65'])).value).toBe(
      'Jefferson Healthcare',
    );
    const signed = page(
      [
        'TAX INVOICE',
        'Professional Services for July 100000.00',
        ['For CA Sakshi & Associates', 30, 700],
        ['Authorised Signatory', 31, 760],
      ],
      1700,
    );
    expect(vendor(signed).value).toBe('CA Sakshi & Associates');
  });

  it('more evidence, more confidence: confidence tells a supported issuer from a weak one', () => {
    const weak = readIssuer(field, buildLayout(page(['Blue Harbor', 'Total: 1.00'])), new Set());
    const company = readIssuer(field, buildLayout(page(['Blue Harbor Ltd', 'Total: 1.00'])), new Set());
    const full = readIssuer(
      field,
      buildLayout(page(['Blue Harbor Ltd', '1 Quay Road', 'Bristol BS1 2AA', 'Total: 1.00'])),
      new Set(),
    );
    expect(weak!.confidence).toBeLessThan(company!.confidence);
    expect(company!.confidence).toBeLessThan(full!.confidence);
  });
});
