import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertConforms,
  emptyOutput,
  listProperty,
  loadPattern,
  type Pattern,
  parsePattern,
  render,
  validateOutput,
} from '../../src/patterns/index.js';
import { caught, SAMPLE_FILES, samplePath } from './helpers/files.js';
import { trickyOutput } from './helpers/tricky.js';

let invoice: Pattern;
beforeAll(async () => {
  invoice = await loadPattern(samplePath('invoice.json'));
});

const goodInvoice = () => ({
  vendor_name: 'Acme',
  invoice_number: 'INV-007',
  invoice_date: '2024-02-29',
  due_date: null,
  currency: 'EUR',
  subtotal: 100,
  tax: 20,
  total: 120,
  line_items: [{ description: 'Widget', quantity: 2, unit_price: 50, amount: 100 }],
});

describe('validateOutput', () => {
  it('passes a conforming output, in any key order', () => {
    expect(validateOutput(invoice, goodInvoice())).toEqual([]);
    const reversed = Object.fromEntries(Object.entries(goodInvoice()).reverse());
    expect(validateOutput(invoice, reversed)).toEqual([]);
    expect(validateOutput(invoice, { ...goodInvoice(), line_items: null })).toEqual([]);
  });

  it('reports a wrong type with its path and the bad value', () => {
    expect(validateOutput(invoice, { ...goodInvoice(), total: '120,00' })).toEqual([
      { path: '/total', keyword: 'type', message: 'must be number or null (got "120,00")' },
    ]);
    const nested = goodInvoice();
    nested.line_items[0]!.quantity = 'two' as unknown as number;
    expect(validateOutput(invoice, nested)).toEqual([
      { path: '/line_items/0/quantity', keyword: 'type', message: 'must be number or null (got "two")' },
    ]);
  });

  it('reports a missing property and an extra one', () => {
    const { vendor_name: _omit, ...missing } = goodInvoice();
    expect(validateOutput(invoice, missing)).toEqual([
      {
        path: '/vendor_name',
        keyword: 'required',
        message: 'is missing (every field must be present; use null when a value is absent)',
      },
    ]);
    expect(validateOutput(invoice, { ...goodInvoice(), notes: 'x' })).toEqual([
      { path: '/notes', keyword: 'additionalProperties', message: 'is not a field of the schema' },
    ]);
  });

  it('checks formats and enums', () => {
    expect(validateOutput(invoice, { ...goodInvoice(), invoice_date: '2023-02-29' })).toEqual([
      { path: '/invoice_date', keyword: 'format', message: 'must be a date (YYYY-MM-DD) (got "2023-02-29")' },
    ]);
    expect(validateOutput(invoice, { ...goodInvoice(), invoice_date: '29/02/2024' })[0]?.path).toBe(
      '/invoice_date',
    );
    const pattern = parsePattern(
      {
        name: 'E',
        instructions: 'x',
        format: 'json',
        json_schema: {
          properties: { kind: { enum: ['a', 'b'] }, at: { type: 'string', format: 'date-time' } },
        },
      },
      'test',
    );
    expect(validateOutput(pattern, { kind: null, at: '2024-05-01 08:15' })).toEqual([]);
    expect(validateOutput(pattern, { kind: 'c', at: '2024-05-01T25:00' })).toEqual([
      { path: '/kind', keyword: 'enum', message: 'must be one of "a", "b", null (got "c")' },
      {
        path: '/at',
        keyword: 'format',
        message: 'must be a date and time (YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]) (got "2024-05-01T25:00")',
      },
    ]);
  });

  it('refuses NaN and non-objects', () => {
    expect(validateOutput(invoice, { ...goodInvoice(), total: Number.NaN })[0]?.path).toBe('/total');
    expect(validateOutput(invoice, null)).toEqual([
      { path: '', keyword: 'type', message: 'must be object (got null)' },
    ]);
    expect(validateOutput(invoice, [goodInvoice()])[0]?.path).toBe('');
  });
});

describe('assertConforms', () => {
  it('returns quietly for a conforming output', () => {
    expect(() => assertConforms(invoice, goodInvoice(), 'scan.jpg')).not.toThrow();
  });

  it('throws SCHEMA_MISMATCH naming the input, the pattern and up to three issues', async () => {
    const error = await caught(() =>
      assertConforms(
        invoice,
        { ...goodInvoice(), total: 'x', tax: 'y', subtotal: 'z', currency: 1, extra: true },
        'scan.jpg',
      ),
    );
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.input).toBe('scan.jpg');
    expect(error.message).toMatch(/^scan\.jpg: output does not conform to pattern "Invoice": /);
    expect(error.message).toContain('/extra is not a field of the schema');
    expect(error.message).toContain('(and 2 more)');
    expect(error.message.match(/; /g)).toHaveLength(2);
  });

  it('names the root when the output is not an object', async () => {
    const error = await caught(() => assertConforms(invoice, 'just text'));
    expect(error.message).toBe(
      'output does not conform to pattern "Invoice": (root) must be object (got "just text")',
    );
  });

  it('is what render relies on: a non-conforming output is never rendered', async () => {
    const error = await caught(() => render(invoice, { ...goodInvoice(), total: '12' }));
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toContain('/total must be number');
  });
});

describe('emptyOutput', () => {
  it.each(SAMPLE_FILES)('builds a conforming output for %s', async (file) => {
    const pattern = await loadPattern(samplePath(file));
    expect(validateOutput(pattern, emptyOutput(pattern.schema))).toEqual([]);
    expect(validateOutput(pattern, trickyOutput(pattern.schema))).toEqual([]);
  });

  it('uses null for every field ("not found"), [] for lists, objects field by field', async () => {
    const parking = await loadPattern(samplePath('parking.yaml'));
    expect(emptyOutput(parking.schema)).toMatchObject({
      plate_number: null,
      location: { lot_name: null, spot: null },
      permit_visible: null,
    });
    expect(emptyOutput(invoice.schema)).toMatchObject({ invoice_number: null, total: null, line_items: [] });
  });
});

describe('listProperty', () => {
  const schemaOf = (json_schema: Record<string, unknown>) =>
    parsePattern({ name: 'L', instructions: 'x', format: 'json', json_schema }, 'test').schema;

  it('finds the one array of objects beside scalar fields', () => {
    expect(listProperty(schemaOf({ store: 'string', items: [{ name: 'string' }] }))).toBe('items');
    expect(listProperty(invoice.schema)).toBe('line_items');
  });

  it('is undefined for anything else', () => {
    expect(listProperty(schemaOf({ store: 'string' }))).toBeUndefined();
    expect(listProperty(schemaOf({ tags: ['string'] }))).toBeUndefined();
    expect(listProperty(schemaOf({ a: [{ x: 1 }], b: [{ y: 1 }] }))).toBeUndefined();
    expect(listProperty(schemaOf({ a: [{ x: 1 }], meta: { y: 1 } }))).toBeUndefined();
  });
});
