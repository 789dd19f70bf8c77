import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import type { ObjectSchema, PatternFormat, SchemaNode } from '../../src/patterns/types.js';

function schemaOf(format: PatternFormat, fields: Record<string, unknown>): ObjectSchema {
  return parsePattern({ name: 'T', instructions: 'Extract.', format, ...fields }, 'test').schema;
}

const json = (json_schema: unknown) => schemaOf('json', { json_schema });

/** Every object node in the schema, with its path. */
function objects(node: SchemaNode, path = ''): Array<[string, SchemaNode]> {
  const out: Array<[string, SchemaNode]> = [];
  if (node.properties) {
    out.push([path, node]);
    for (const [key, child] of Object.entries(node.properties)) out.push(...objects(child, `${path}/${key}`));
  }
  if (node.items) out.push(...objects(node.items, `${path}/items`));
  return out;
}

function expectStrict(schema: SchemaNode): void {
  for (const [path, node] of objects(schema)) {
    expect(node.additionalProperties, path).toBe(false);
    expect(node.required, path).toEqual(Object.keys(node.properties!));
  }
}

describe('JSON Schema normalisation', () => {
  const invoice = {
    type: 'object',
    properties: {
      vendor: { type: 'string', minLength: 1, pattern: '^.+$' },
      id: { type: 'string', format: 'uuid', title: 'Id' },
      date: { type: 'string', format: 'date', description: 'Date issued' },
      kind: { type: 'string', enum: ['a', 'b'] },
      fixed: { const: 'x' },
      total: { type: 'number', minimum: 0 },
      items: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, qty: { type: 'integer' } },
          required: ['name'],
          additionalProperties: true,
        },
      },
      address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
    required: ['total', 'items'],
  };

  it('lets every field be null ("not found") and requires every property', () => {
    const schema = json(invoice);
    expect(schema.required).toEqual(['vendor', 'id', 'date', 'kind', 'fixed', 'total', 'items', 'address']);
    expect(schema.properties.vendor?.type).toEqual(['string', 'null']);
    // Required scalars too: null is "not found", never a value a model must invent.
    expect(schema.properties.total?.type).toEqual(['number', 'null']);
    // A required list that may not be empty says "not found" with null; [] would break minItems.
    expect(schema.properties.items?.type).toEqual(['array', 'null']);
    expect(schema.properties.items?.items?.type).toBe('object');
    expect(schema.properties.items?.items?.properties?.name?.type).toEqual(['string', 'null']);
    expect(schema.properties.items?.items?.properties?.qty?.type).toEqual(['integer', 'null']);
    expect(schema.properties.address?.type).toEqual(['object', 'null']);
    expect(schema.properties.address?.properties?.city?.type).toEqual(['string', 'null']);
    expectStrict(schema);
  });

  it('remembers which fields the pattern requires, with * for list items', () => {
    const pattern = parsePattern({ name: 'T', instructions: 'x', format: 'json', json_schema: invoice }, 't');
    expect(pattern.requiredFields).toEqual(['/total', '/items', '/items/*/name', '/address/city']);
    // A required list that may be empty, or a required object, says "none" with [] and nulls.
    const lists = parsePattern(
      {
        name: 'T',
        instructions: 'x',
        format: 'json',
        json_schema: {
          type: 'object',
          properties: {
            tags: { type: 'array', items: { type: 'string' } },
            where: { type: 'object', properties: { city: { type: ['string', 'null'] } } },
          },
          required: ['tags', 'where'],
        },
      },
      't',
    );
    expect(lists.schema.properties.tags?.type).toBe('array');
    expect(lists.schema.properties.where?.type).toBe('object');
    expect(lists.requiredFields).toEqual([]);
  });

  it('keeps the constraints and the keywords strict schemas understand', () => {
    const schema = json(invoice);
    expect(schema.properties.vendor).toEqual({ type: ['string', 'null'], minLength: 1, pattern: '^.+$' });
    expect(schema.properties.id).toEqual({ type: ['string', 'null'], format: 'uuid', title: 'Id' });
    expect(schema.properties.date).toEqual({
      type: ['string', 'null'],
      format: 'date',
      description: 'Date issued',
    });
    expect(schema.properties.total).toEqual({ type: ['number', 'null'], minimum: 0 });
    expect(schema.properties.items?.minItems).toBe(1);
  });

  it('adds null to the enum of a nullable property; const becomes an enum', () => {
    const schema = json(invoice);
    expect(schema.properties.kind).toEqual({ type: ['string', 'null'], enum: ['a', 'b', null] });
    expect(schema.properties.fixed).toEqual({ type: ['string', 'null'], enum: ['x', null] });
  });

  it('resolves local $refs to #/definitions and #/$defs, with sibling annotations', () => {
    const schema = json({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        billing: { $ref: '#/$defs/address', description: 'Billing address' },
        shipping: { $ref: '#/definitions/address' },
        lines: { type: 'array', items: { $ref: '#/$defs/line' } },
      },
      required: ['billing', 'lines'],
      $defs: {
        address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        line: { type: 'object', properties: { sku: { $ref: '#/$defs/sku' } } },
        sku: { type: 'string', title: 'SKU' },
      },
      definitions: { address: { type: 'object', properties: { zip: { type: 'string' } } } },
    });
    expect(schema.properties.billing).toEqual({
      type: 'object',
      description: 'Billing address',
      properties: { city: { type: ['string', 'null'] } },
      required: ['city'],
      additionalProperties: false,
    });
    expect(schema.properties.shipping?.properties).toEqual({ zip: { type: ['string', 'null'] } });
    expect(schema.properties.lines?.items?.properties?.sku).toEqual({
      type: ['string', 'null'],
      title: 'SKU',
    });
    expect(schema).not.toHaveProperty('$defs');
    expect(schema).not.toHaveProperty('$schema');
  });

  it('reads the nullable shapes generators emit (Pydantic anyOf/allOf, OpenAPI nullable)', () => {
    const schema = json({
      type: 'object',
      properties: {
        a: { anyOf: [{ type: 'string' }, { type: 'null' }], title: 'A' },
        b: { allOf: [{ $ref: '#/$defs/kind' }], description: 'B' },
        c: { type: 'number', nullable: true },
        d: { oneOf: [{ type: 'string' }, { type: 'number' }] },
      },
      required: ['a', 'b', 'c', 'd'],
      $defs: { kind: { type: 'string', enum: ['x', 'y'] } },
    });
    expect(schema.properties.a).toEqual({ type: ['string', 'null'], title: 'A' });
    expect(schema.properties.b).toEqual({
      type: ['string', 'null'],
      enum: ['x', 'y', null],
      description: 'B',
    });
    expect(schema.properties.c).toEqual({ type: ['number', 'null'] });
    expect(schema.properties.d).toEqual({ type: ['string', 'number', 'null'] });
  });

  it('infers a missing type from properties, items or enum', () => {
    const schema = json({
      properties: {
        a: { properties: { b: { type: 'string' } } },
        c: { items: { type: 'number' } },
        d: { enum: [1, 2] },
      },
    });
    expect(schema.properties.a?.type).toEqual(['object', 'null']);
    expect(schema.properties.c?.type).toEqual(['array', 'null']);
    expect(schema.properties.d).toEqual({ type: ['number', 'null'], enum: [1, 2, null] });
  });
});

describe('example objects (ImgGo simple form)', () => {
  it('reads type names as types, all nullable scalars', () => {
    const schema = json({
      vendor_name: 'string',
      invoice_date: 'date',
      created: 'datetime',
      updated: 'date-time',
      total: 'number',
      count: 'integer',
      paid: 'boolean',
      email: 'email',
      website: 'url',
      Kind: 'String (a|b|c)',
      note: 'text: anything else',
    });
    expect(schema.properties).toEqual({
      vendor_name: { type: ['string', 'null'] },
      invoice_date: { type: ['string', 'null'], format: 'date' },
      created: { type: ['string', 'null'], format: 'date-time' },
      updated: { type: ['string', 'null'], format: 'date-time' },
      total: { type: ['number', 'null'] },
      count: { type: ['integer', 'null'] },
      paid: { type: ['boolean', 'null'] },
      email: { type: ['string', 'null'], format: 'email' },
      website: { type: ['string', 'null'], format: 'uri' },
      Kind: { type: ['string', 'null'], description: 'a|b|c' },
      note: { type: ['string', 'null'], description: 'anything else' },
    });
  });

  it("understands ImgGo's documented example, arrays of objects included", () => {
    const schema = json({
      vendor_name: 'string',
      invoice_date: 'date',
      total: 'number',
      items: [{ description: 'string' }],
    });
    expect(schema.properties.items).toEqual({
      type: 'array',
      items: {
        type: 'object',
        properties: { description: { type: ['string', 'null'] } },
        required: ['description'],
        additionalProperties: false,
      },
    });
    expectStrict(schema);
  });

  it('types example values: decimals and whole numbers are numbers, ISO dates are dates', () => {
    const schema = json({ price: 12.5, qty: 3, on: true, when: '2024-01-15', name: 'Acme', gone: null });
    expect(schema.properties).toEqual({
      price: { type: ['number', 'null'] },
      qty: { type: ['number', 'null'] },
      on: { type: ['boolean', 'null'] },
      when: { type: ['string', 'null'], format: 'date' },
      name: { type: ['string', 'null'] },
      gone: { type: ['string', 'null'] },
    });
  });

  it('merges object keys across array elements; arrays and objects are not nullable', () => {
    const schema = json({
      lines: [{ a: 'string' }, { b: 1, a: 'x' }, { c: true }],
      tags: ['string'],
      none: [],
      nested: { inner: { x: 1 } },
    });
    expect(Object.keys(schema.properties.lines?.items?.properties ?? {})).toEqual(['a', 'b', 'c']);
    expect(schema.properties.lines?.type).toBe('array');
    expect(schema.properties.tags).toEqual({ type: 'array', items: { type: 'string' } });
    expect(schema.properties.none).toEqual({ type: 'array', items: { type: 'string' } });
    expect(schema.properties.nested?.type).toBe('object');
    expect(schema.properties.nested?.properties?.inner?.type).toBe('object');
    expectStrict(schema);
  });

  it('keeps property order as written', () => {
    const keys = ['zeta', 'alpha', 'mid', 'beta'];
    const schema = json(Object.fromEntries(keys.map((k) => [k, 'string'])));
    expect(Object.keys(schema.properties)).toEqual(keys);
    expect(schema.required).toEqual(keys);
  });

  it('keeps a field named __proto__ as a field', () => {
    const schema = json(JSON.parse('{"__proto__": "string", "a": "number"}'));
    expect(Object.keys(schema.properties)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(schema.properties)).toBe(Object.prototype);
  });
});

describe('yaml_schema', () => {
  it('infers from example YAML, reading YAML 1.2 scalars', () => {
    const schema = schemaOf('yaml', {
      yaml_schema:
        'site: string\ndate: 2024-05-14\nok: yes\ncount: 3\nratio: 0.5\nissues:\n  - severity: high\n',
    });
    expect(schema.properties).toEqual({
      site: { type: ['string', 'null'] },
      date: { type: ['string', 'null'], format: 'date' },
      ok: { type: ['string', 'null'] },
      count: { type: ['number', 'null'] },
      ratio: { type: ['number', 'null'] },
      issues: {
        type: 'array',
        items: {
          type: 'object',
          properties: { severity: { type: ['string', 'null'] } },
          required: ['severity'],
          additionalProperties: false,
        },
      },
    });
  });
});

describe('xml_schema', () => {
  const xml = (xml_schema: string) =>
    parsePattern({ name: 'T', instructions: 'x', format: 'xml', xml_schema }, 'test');

  it('keeps the root name as a hint and children in document order', () => {
    const pattern = xml('<Event><b>x</b><a>1</a><c><z/><y>2024-01-01</y></c></Event>');
    expect(pattern.hints.xmlRoot).toBe('Event');
    expect(Object.keys(pattern.schema.properties)).toEqual(['b', 'a', 'c']);
    expect(Object.keys(pattern.schema.properties.c?.properties ?? {})).toEqual(['z', 'y']);
    expect(pattern.schema.properties.c?.type).toBe('object');
    expectStrict(pattern.schema);
  });

  it('types element text: numbers, booleans, type names, dates; leading zeros stay text', () => {
    const { schema } = xml(
      '<r><price>123.45</price><n>7</n><on>true</on><off>False</off><d>2024-02-29</d><t>integer</t><z>007</z><e/><s>abc</s></r>',
    );
    expect(schema.properties).toEqual({
      price: { type: ['number', 'null'] },
      n: { type: ['number', 'null'] },
      on: { type: ['boolean', 'null'] },
      off: { type: ['boolean', 'null'] },
      d: { type: ['string', 'null'], format: 'date' },
      t: { type: ['integer', 'null'] },
      z: { type: ['string', 'null'] },
      e: { type: ['string', 'null'] },
      s: { type: ['string', 'null'] },
    });
  });

  it('turns repeated siblings into an array of merged objects', () => {
    const { schema } = xml(
      '<order><id>1</id><item><sku>A</sku></item><note>x</note><item><sku>B</sku><qty>2</qty></item><tag>a</tag><tag>b</tag></order>',
    );
    expect(Object.keys(schema.properties)).toEqual(['id', 'item', 'note', 'tag']);
    expect(schema.properties.item?.type).toBe('array');
    expect(Object.keys(schema.properties.item?.items?.properties ?? {})).toEqual(['sku', 'qty']);
    expect(schema.properties.tag).toEqual({ type: 'array', items: { type: 'string' } });
  });

  it('turns attributes into ordinary properties (text under "value")', () => {
    const { schema } = xml(
      '<r xmlns="urn:x" version="2"><amount currency="USD">12.50</amount><flag on="true"/></r>',
    );
    expect(Object.keys(schema.properties)).toEqual(['version', 'amount', 'flag']);
    expect(schema.properties.version?.type).toEqual(['number', 'null']);
    expect(schema.properties.amount?.properties).toEqual({
      currency: { type: ['string', 'null'] },
      value: { type: ['number', 'null'] },
    });
    expect(schema.properties.flag?.properties).toEqual({ on: { type: ['boolean', 'null'] } });
  });

  it('decodes entities and CDATA in examples', () => {
    const { schema } = xml('<r><a>Tom &amp; Jerry</a><b><![CDATA[<x>]]></b></r>');
    expect(Object.keys(schema.properties)).toEqual(['a', 'b']);
  });
});

describe('csv_schema', () => {
  const csv = (csv_schema: string, csv_delimiter?: string) =>
    parsePattern({ name: 'T', instructions: 'x', format: 'csv', csv_schema, csv_delimiter }, 'test');

  it('trims columns and keeps them as hints', () => {
    const pattern = csv(' merchant_name , date,total_amount ,category\n');
    expect(pattern.hints).toEqual({
      csvDelimiter: ',',
      csvColumns: ['merchant_name', 'date', 'total_amount', 'category'],
    });
    expect(Object.keys(pattern.schema.properties)).toEqual(pattern.hints.csvColumns);
    expectStrict(pattern.schema);
  });

  it('types columns by name', () => {
    const { schema } = csv(
      'amount,Total,unit_price,shipping_cost,tax,subtotal,quantity,qty,totalAmount,Tax Rate,date,due_date,InvoiceDate,candidate,update,taxonomy,description',
    );
    const number = { type: ['number', 'null'] };
    const date = { type: ['string', 'null'], format: 'date' };
    const string = { type: ['string', 'null'] };
    expect(schema.properties).toEqual({
      amount: number,
      Total: number,
      unit_price: number,
      shipping_cost: number,
      tax: number,
      subtotal: number,
      quantity: number,
      qty: number,
      totalAmount: number,
      'Tax Rate': number,
      date,
      due_date: date,
      InvoiceDate: date,
      candidate: string,
      update: string,
      taxonomy: string,
      description: string,
    });
  });

  it('splits on semicolons and honours quoted columns', () => {
    const semicolon = csv('name;"total; gross";date', 'semicolon');
    expect(semicolon.hints).toEqual({ csvDelimiter: ';', csvColumns: ['name', 'total; gross', 'date'] });
    expect(csv('"a ""b""", "c,d"').hints.csvColumns).toEqual(['a "b"', 'c,d']);
  });
});

describe('plain_text_schema', () => {
  const text = (plain_text_schema: string) =>
    parsePattern({ name: 'T', instructions: 'x', format: 'text', plain_text_schema }, 'test');

  it('makes leaf headings nullable string fields keyed in snake_case', () => {
    const pattern = text(
      '# Candidate\n## Full Name\n## E-mail ##\n# Experience\n### Years of Experience\n# Notes',
    );
    expect(pattern.schema.properties).toEqual({
      full_name: { type: ['string', 'null'], title: 'Full Name' },
      e_mail: { type: ['string', 'null'], title: 'E-mail' },
      years_of_experience: { type: ['string', 'null'], title: 'Years of Experience' },
      notes: { type: ['string', 'null'], title: 'Notes' },
    });
    expect(pattern.hints.textHeadings).toEqual([
      { level: 1, text: 'Candidate' },
      { level: 2, text: 'Full Name', key: 'full_name' },
      { level: 2, text: 'E-mail', key: 'e_mail' },
      { level: 1, text: 'Experience' },
      { level: 3, text: 'Years of Experience', key: 'years_of_experience' },
      { level: 1, text: 'Notes', key: 'notes' },
    ]);
    expectStrict(pattern.schema);
  });

  it('dedupes keys, slugifies accents and punctuation, reads body text as a description', () => {
    const pattern = text(
      '# Buyer\n## Name\nAs printed.\n\n# Seller\n## Name\n## Name!\n## Café Société\n## 2nd Address\n```\n# not a heading\n```\n',
    );
    expect(Object.keys(pattern.schema.properties)).toEqual([
      'name',
      'name_2',
      'name_3',
      'cafe_societe',
      '2nd_address',
    ]);
    expect(pattern.schema.properties.name?.description).toBe('As printed.');
    expect(pattern.schema.properties['2nd_address']?.description).toBe('```\n# not a heading\n```');
  });

  it('reads `#tag` without a space as text, not a heading (CommonMark)', () => {
    const pattern = text('# Summary\n#hashtag');
    expect(Object.keys(pattern.schema.properties)).toEqual(['summary']);
  });
});
