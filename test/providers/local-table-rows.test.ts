/**
 * Invoice line items read by the local engine's table reader (issue 17): a row
 * "<text> <integer> <money>" that does not sit under its headers is read by its shape,
 * an ambiguous row leaves its uncertain numbers null (never shifted), and a table that goes
 * on over a second page (stacked pages, header repeated) keeps every page's rows.
 * Synthetic OCR pages: the words and boxes tesseract gives for left-aligned PDF text.
 */
import { describe, expect, it } from 'vitest';
import type { ObjectSchema } from '../../src/patterns/types.js';
import { extractFields } from '../../src/providers/local/field-extractor.js';
import type { OcrLine, OcrPage } from '../../src/providers/local/ocr-engine.js';
import { stackPages } from '../../src/providers/local/stack-pages.js';

const schema: ObjectSchema = {
  type: 'object',
  properties: {
    line_items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          description: { type: 'string' },
          quantity: { type: 'integer' },
          amount: { type: 'number' },
        },
      },
    },
  },
  required: [],
  additionalProperties: false,
};

/** One left-aligned line of words at row `row`: 12 px per character, 40 px per row. */
function line(text: string, row: number): OcrLine {
  let x = 60;
  const y0 = 100 + row * 40;
  const words = text.split(' ').map((word) => {
    const box = { x0: x, x1: x + word.length * 12, y0, y1: y0 + 24 };
    x = box.x1 + 12;
    return { text: word, confidence: 0.95, box };
  });
  return { text, words, box: { x0: 60, x1: x - 12, y0, y1: y0 + 24 }, block: 0 };
}

function page(texts: readonly string[]): OcrPage {
  const lines = texts.map((text, i) => line(text, i));
  return { text: texts.join('\n'), lines, confidence: 0.95, width: 1200, height: 1600 };
}

function items(p: OcrPage): unknown {
  return (extractFields(p, schema).output as { line_items: unknown }).line_items;
}

describe('local table rows', () => {
  it('a currency sign OCR split from its amount ("£ 1,040.00") is not a cell of its own', () => {
    expect(items(page(['Description Qty Amount', 'Office chair 5 £ 1,040.00']))).toEqual([
      { description: 'Office chair', quantity: 5, amount: 1040 },
    ]);
  });

  it('reads "<text> <integer> <money>" as description, quantity, amount', () => {
    expect(items(page(['Description Qty Amount', 'Widgets 2 30.00']))).toEqual([
      { description: 'Widgets', quantity: 2, amount: 30 },
    ]);
  });

  it('keeps a description ending in a number whole', () => {
    expect(items(page(['Description Qty Amount', 'Bolt M 8 3 4.50']))).toEqual([
      { description: 'Bolt M 8', quantity: 3, amount: 4.5 },
    ]);
  });

  it('leaves the numbers of an ambiguous row null rather than shifting them', () => {
    const [row] = items(page(['Description Qty Amount', 'Widgets 30.00'])) as Record<string, unknown>[];
    expect(row?.description).toBe('Widgets');
    expect(row?.quantity).toBeNull();
    expect(row?.amount).toBeNull();
  });

  it('keeps the rows of every stacked page', () => {
    const stacked = stackPages([
      page(['INVOICE', 'Description Qty Amount', 'Widgets 2 30.00']),
      page(['Description Qty Amount', 'Gadgets 1 12.50', '', 'Total: $42.50']),
    ]);
    expect(items(stacked)).toEqual([
      { description: 'Widgets', quantity: 2, amount: 30 },
      { description: 'Gadgets', quantity: 1, amount: 12.5 },
    ]);
  });
});

describe('a table going on over a page break without its header (stacked pages)', () => {
  it("reads page 2's rows with page 1's columns", () => {
    const stacked = stackPages([
      page(['INVOICE', 'Description Qty Amount', 'Widgets 2 30.00']),
      page(['Gadgets 1 12.50', 'Sprockets 3 9.00', '', 'Total: $51.50']),
    ]);
    expect(items(stacked)).toEqual([
      { description: 'Widgets', quantity: 2, amount: 30 },
      { description: 'Gadgets', quantity: 1, amount: 12.5 },
      { description: 'Sprockets', quantity: 3, amount: 9 },
    ]);
  });

  it('skips a running head and a page marker on top of page 2, never reads them as items', () => {
    const stacked = stackPages([
      page(['INVOICE', 'Description Qty Amount', 'Widgets 2 30.00']),
      page(['Northwind Traders', 'Page 2 of 2', 'Gadgets 1 12.50', '', 'Total: $42.50']),
    ]);
    expect(items(stacked)).toEqual([
      { description: 'Widgets', quantity: 2, amount: 30 },
      { description: 'Gadgets', quantity: 1, amount: 12.5 },
    ]);
  });

  it('a page 2 that starts with the totals is not a continuation', () => {
    const stacked = stackPages([
      page(['INVOICE', 'Description Qty Amount', 'Widgets 2 30.00']),
      page(['Total: $30.00', 'Thank you 2024']),
    ]);
    expect(items(stacked)).toEqual([{ description: 'Widgets', quantity: 2, amount: 30 }]);
  });
});

describe('field_confidence of line items', () => {
  it('each cell of each row has its confidence; a null cell 0; a row read by its shape less', () => {
    const p = page(['Description Qty Amount', 'Widgets 2 30.00', 'Bolt M 8 3 4.50', 'Nuts 7.00']);
    // Row 0 sits under its headers (Qty at x 204–240, Amount at 252–324): read by position.
    const y0 = p.lines[1]!.box.y0;
    const at = (text: string, x0: number) => ({
      text,
      confidence: 0.95,
      box: { x0, x1: x0 + text.length * 12, y0, y1: y0 + 24 },
    });
    p.lines[1] = { ...p.lines[1]!, words: [at('Widgets', 60), at('2', 216), at('30.00', 264)] };
    const read = extractFields(p, schema);
    const confidence = read.fieldConfidence;
    expect(confidence['/line_items/0/description']).toBe(0.95);
    expect(confidence['/line_items/0/amount']).toBe(0.95);
    // "Bolt M 8 3 4.50" does not sit under its headers: read by its shape.
    expect(confidence['/line_items/1/amount']).toBeGreaterThan(0);
    expect(confidence['/line_items/1/amount']).toBeLessThan(confidence['/line_items/0/amount']!);
    // "Nuts 7.00": ambiguous, its numbers are null, with confidence 0.
    expect((read.output.line_items as Array<Record<string, unknown>>)[2]?.amount).toBeNull();
    expect(confidence['/line_items/2/amount']).toBe(0);
    expect(confidence['/line_items/2/quantity']).toBe(0);
    // Every cell of every row, and nothing for rows that do not exist.
    const cells = Object.keys(confidence).filter((k) => k.startsWith('/line_items/'));
    expect(cells).toHaveLength(9);
  });
});
