import { parse as parseCsv } from 'csv-parse/sync';
import * as jsYaml from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPattern, type Pattern, parsePattern, render, renderAs } from '../../src/patterns/index.js';
import { samplePath } from './helpers/files.js';
import { parseTextBack, parseXmlBack } from './helpers/parse-back.js';

let invoice: Pattern;
let receipt: Pattern;
beforeAll(async () => {
  invoice = await loadPattern(samplePath('invoice.json'));
  receipt = await loadPattern(samplePath('receipt.yaml'));
});

function pattern(fields: Record<string, unknown>): Pattern {
  return parsePattern({ name: 'Test Pattern', instructions: 'x', ...fields }, 'test');
}

const invoiceOutput = () => ({
  line_items: [
    { amount: 10, unit_price: 5, quantity: 2, description: 'Bolts, "M8" & nuts' },
    { amount: 3.5, unit_price: 3.5, quantity: 1, description: 'Line\nbreak' },
  ],
  total: 13.5,
  invoice_number: 'INV-1',
  vendor_name: 'Acme',
  invoice_date: '2024-01-31',
  due_date: null,
  currency: 'USD',
  subtotal: 13.5,
  tax: 0,
});

const trickyParking = () => ({
  plate_number: 'AB 123',
  plate_region: null,
  vehicle_type: 'car',
  make: null,
  color: 'red',
  entry_time: '2024-05-01T08:15:00',
  location: { lot_name: 'P1', spot: '7' },
  permit_visible: true,
});

describe('JSON', () => {
  it('writes two-space indented JSON with keys in schema order', () => {
    const text = renderAs('json', invoice, invoiceOutput());
    expect(text.split('\n')[1]).toBe('  "vendor_name": "Acme",');
    expect(Object.keys(JSON.parse(text))).toEqual(Object.keys(invoice.schema.properties));
    expect(Object.keys(JSON.parse(text).line_items[0])).toEqual([
      'description',
      'quantity',
      'unit_price',
      'amount',
    ]);
    expect(text.endsWith('}\n')).toBe(true);
  });
});

describe('YAML', () => {
  const yamlPattern = () => pattern({ format: 'yaml', json_schema: { a: 'string' } });

  it.each([
    'yes',
    'No',
    'on',
    'y',
    '007',
    'a: b',
    '# x',
    'x #y',
    'null',
    '~',
    'true',
    '1.0',
    '1e3',
    '1_000',
    '12:30:00',
    '0x1F',
    '- dash',
    '@at',
    "'q'",
    '"dq"',
    '2024-01-01',
    ' lead',
    'multi\nline',
  ])('keeps %j a string for YAML 1.2 and 1.1 readers', (value) => {
    const text = render(yamlPattern(), { a: value });
    for (const schema of [jsYaml.CORE_SCHEMA, jsYaml.YAML11_SCHEMA, jsYaml.JSON_SCHEMA]) {
      if (schema === jsYaml.JSON_SCHEMA && value.includes('\n')) continue; // block scalars are not JSON style
      expect(jsYaml.load(text, { schema })).toEqual({ a: value });
    }
  });

  it.each([
    ['x\ty', '"x\\ty"'],
    ['bell\u0007', '"bell\\u0007"'],
    ['a\n\tb', '"a\\n\\tb"'],
  ])('double-quotes %j (a tab or control character PyYAML refuses in a plain scalar)', (value, written) => {
    const text = render(yamlPattern(), { a: value });
    expect(text).toBe(`a: ${written}\n`);
    expect(jsYaml.load(text, { schema: jsYaml.YAML11_SCHEMA })).toEqual({ a: value });
  });

  it('writes numbers in exponent form so YAML 1.1 readers see numbers too', () => {
    const p = pattern({ format: 'yaml', json_schema: { a: 'number', b: 'number', c: 'number' } });
    const output = { a: 1e21, b: 5e-7, c: -1.5e-7 };
    const text = render(p, output);
    expect(text).toBe('a: 1.0e+21\nb: 5.0e-7\nc: -1.5e-7\n');
    for (const schema of [jsYaml.CORE_SCHEMA, jsYaml.YAML11_SCHEMA])
      expect(jsYaml.load(text, { schema })).toEqual(output);
  });

  it('writes keys in schema order and null as null', () => {
    const text = renderAs('yaml', invoice, invoiceOutput());
    expect(text.split('\n').slice(0, 2)).toEqual(['vendor_name: Acme', 'invoice_number: INV-1']);
    expect(text).toContain('due_date: null\n');
    expect(text).toContain('line_items:\n  - description: Bolts, "M8" & nuts\n    quantity: 2\n');
  });
});

describe('XML', () => {
  it('writes a declaration, the root from the hint, and escapes entities', async () => {
    const parking = await loadPattern(samplePath('parking.yaml'));
    const output = {
      plate_number: 'A&B<1>',
      plate_region: '"quoted" \'single\'',
      vehicle_type: ']]> cdata end',
      make: null,
      color: 'cr\r\nlf',
      entry_time: null,
      location: { lot_name: 'Lot <A> & B', spot: '  spaced  ' },
      permit_visible: false,
    };
    const text = render(parking, output);
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<ParkingEvent>\n')).toBe(true);
    expect(text).toContain('<plate_number>A&amp;B&lt;1&gt;</plate_number>');
    expect(text).toContain('<make/>');
    expect(parseXmlBack(text, parking.schema)).toEqual({ root: 'ParkingEvent', value: output });
  });

  it('renders arrays as repeated elements and drops characters XML cannot carry', () => {
    const text = renderAs('xml', invoice, { ...invoiceOutput(), vendor_name: 'bell\u0007 nul\u0000 ok' });
    expect(text.match(/<line_items>/g)).toHaveLength(2);
    expect(text).toContain('<vendor_name>bell nul ok</vendor_name>');
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Invoice>\n')).toBe(true);
  });

  it('sanitises names that are not XML names, and the root from the pattern name', () => {
    const p = pattern({
      name: '2024 Report: Q1',
      format: 'json',
      json_schema: {
        'unit price': 'number',
        '2nd': 'string',
        xmlData: 'string',
        'a:b': 'string',
        a_b: 'string',
      },
    });
    const text = renderAs('xml', p, { 'unit price': 1, '2nd': 'x', xmlData: 'y', 'a:b': 'z', a_b: 'w' });
    expect(text).toContain('<_2024_Report__Q1>');
    expect(text).toContain('<unit_price>1</unit_price>');
    expect(text).toContain('<_2nd>x</_2nd>');
    expect(text).toContain('<_xmlData>y</_xmlData>');
    expect(text).toContain('<a_b>z</a_b>');
    expect(text).toContain('<a_b_2>w</a_b_2>');
  });
});

describe('CSV', () => {
  it('quotes commas, quotes and newlines; header order from csvColumns whatever the key order', () => {
    const text = render(receipt, {
      category: 'food\nand drink',
      total_amount: 12.5,
      date: null,
      merchant_name: 'Joe\'s "Diner", Inc.',
    });
    expect(text).toBe(
      'merchant_name,date,total_amount,category\n"Joe\'s ""Diner"", Inc.",,12.5,"food\nand drink"\n',
    );
    expect(parseCsv(text)).toEqual([
      ['merchant_name', 'date', 'total_amount', 'category'],
      ['Joe\'s "Diner", Inc.', '', '12.5', 'food\nand drink'],
    ]);
  });

  it('uses the semicolon delimiter, quoting semicolons and not commas', () => {
    const p = pattern({ format: 'csv', csv_schema: 'name;total', csv_delimiter: 'semicolon' });
    const text = render(p, { name: 'a;b, c', total: 1.5 });
    expect(text).toBe('name;total\n"a;b, c";1.5\n');
    expect(parseCsv(text, { delimiter: ';' })).toEqual([
      ['name', 'total'],
      ['a;b, c', '1.5'],
    ]);
  });

  it('writes one row per item for a list pattern, root columns repeated', () => {
    const text = renderAs('csv', invoice, invoiceOutput());
    const records = parseCsv(text) as string[][];
    expect(records[0]).toEqual([
      'vendor_name',
      'invoice_number',
      'invoice_date',
      'due_date',
      'currency',
      'subtotal',
      'tax',
      'total',
      'description',
      'quantity',
      'unit_price',
      'amount',
    ]);
    expect(records.slice(1)).toEqual([
      ['Acme', 'INV-1', '2024-01-31', '', 'USD', '13.5', '0', '13.5', 'Bolts, "M8" & nuts', '2', '5', '10'],
      ['Acme', 'INV-1', '2024-01-31', '', 'USD', '13.5', '0', '13.5', 'Line\nbreak', '1', '3.5', '3.5'],
    ]);
  });

  it('keeps the root row when the list is empty or null', () => {
    for (const line_items of [[], null]) {
      const records = parseCsv(renderAs('csv', invoice, { ...invoiceOutput(), line_items })) as string[][];
      expect(records).toHaveLength(2);
      expect(records[1]!.slice(-4)).toEqual(['', '', '', '']);
      expect(records[1]![1]).toBe('INV-1');
    }
  });

  it('prefixes item columns that clash with root columns', () => {
    const p = pattern({
      format: 'csv',
      json_schema: { total: 'number', items: [{ name: 'string', total: 'number' }] },
    });
    expect(render(p, { total: 3, items: [{ name: 'a', total: 1 }] })).toBe('total,name,items.total\n3,a,1\n');
  });

  it('flattens nested objects with dotted names', async () => {
    const parking = await loadPattern(samplePath('parking.yaml'));
    const [header] = parseCsv(renderAs('csv', parking, trickyParking())) as string[][];
    expect(header).toEqual([
      'plate_number',
      'plate_region',
      'vehicle_type',
      'make',
      'color',
      'entry_time',
      'location.lot_name',
      'location.spot',
      'permit_visible',
    ]);
  });

  it('writes other arrays as JSON text in one cell', () => {
    const p = pattern({ format: 'csv', json_schema: { id: 'string', tags: ['string'] } });
    expect(render(p, { id: 'x', tags: ['a', 'b,c'] })).toBe('id,tags\nx,"[""a"",""b,c""]"\n');
  });
});

describe('text', () => {
  it("writes a text pattern's headings with each value under its leaf heading, null as an empty line", async () => {
    const resume = await loadPattern(samplePath('resume.yaml'));
    const output = Object.fromEntries(Object.keys(resume.schema.properties).map((k) => [k, null])) as Record<
      string,
      string | null
    >;
    output.name = 'Jane Doe';
    output.top_skills = '# not a heading\nsecond line';
    const text = render(resume, output);
    expect(text.startsWith('# Candidate\n\n## Name\nJane Doe\n\n## Email\n\n\n## Phone\n')).toBe(true);
    expect(text).toContain('## Top Skills\n\\# not a heading\nsecond line\n');
    const back = parseTextBack(text);
    expect(back.map((h) => h.text)).toEqual(resume.hints.textHeadings!.map((h) => h.text));
    expect(back.find((h) => h.text === 'Top Skills')?.value).toBe('# not a heading\nsecond line');
    expect(back.find((h) => h.text === 'Email')?.value).toBeNull();
  });

  it('derives headings from property names for other patterns', () => {
    const text = renderAs('text', invoice, invoiceOutput());
    const headings = parseTextBack(text);
    expect(headings.slice(0, 3)).toEqual([
      { level: 1, text: 'Vendor Name', value: 'Acme' },
      { level: 1, text: 'Invoice Number', value: 'INV-1' },
      { level: 1, text: 'Invoice Date', value: '2024-01-31' },
    ]);
    expect(headings.map((h) => `${h.level} ${h.text}`).slice(-11, -4)).toEqual([
      '1 Line Items',
      '2 Line Items 1',
      '3 Description',
      '3 Quantity',
      '3 Unit Price',
      '3 Amount',
      '2 Line Items 2',
    ]);
    expect(headings.find((h) => h.text === 'Due Date')?.value).toBeNull();
  });

  it('nests objects one level deeper and writes scalar lists as "- item" lines', () => {
    const p = pattern({ format: 'text', json_schema: { place: { city: 'string' }, tags: ['string'] } });
    expect(render(p, { place: { city: 'Oslo' }, tags: ['a', 'b'] })).toBe(
      '# Place\n\n## City\nOslo\n\n# Tags\n- a\n- b\n',
    );
    expect(render(p, { place: { city: null }, tags: [] })).toBe('# Place\n\n## City\n\n\n# Tags\n\n');
  });
});
