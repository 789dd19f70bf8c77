/**
 * A pattern's constraints are kept: read at load (with sensible values), checked on every
 * output with an issue that names the field and the rule, and what cannot be enforced is
 * reported once.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assertConforms,
  loadPattern,
  missingRequired,
  type Pattern,
  parsePattern,
  SchemaMismatchError,
  validateOutput,
} from '../../src/patterns/index.js';
import { caught } from './helpers/files.js';

const pattern = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}): Pattern =>
  parsePattern(
    {
      name: 'C',
      instructions: 'x',
      format: 'json',
      json_schema: { type: 'object', properties, ...extra },
    },
    'c.json',
  );

/** The repro of issue 11 §3: every constraint broken at once. */
const constrained = pattern(
  {
    invoice_number: { type: 'string', pattern: '^INV-[0-9]+$' },
    total: { type: 'number', minimum: 0 },
    currency: { type: 'string', minLength: 3, maxLength: 3 },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 2, uniqueItems: true },
  },
  { required: ['invoice_number', 'total', 'currency', 'tags'] },
);

const rules = (p: Pattern, output: unknown) =>
  validateOutput(p, output).map((issue) => `${issue.path} ${issue.keyword}`);

describe('constraints are checked on outputs', () => {
  it('names the field and the rule of each broken constraint (the issue 11 §3 repro)', () => {
    const output = {
      invoice_number: 'hello world',
      total: -5,
      currency: 'DOLLARS',
      tags: ['a', 'a', 'b', 'c'],
    };
    expect(rules(constrained, output).sort()).toEqual(
      [
        '/currency maxLength',
        '/invoice_number pattern',
        '/tags maxItems',
        '/tags uniqueItems',
        '/total minimum',
      ].sort(),
    );
    const issues = validateOutput(constrained, output);
    expect(issues.find((i) => i.keyword === 'pattern')?.message).toBe(
      'must match the regular expression ^INV-[0-9]+$ (pattern, got "hello world")',
    );
    expect(issues.find((i) => i.keyword === 'minimum')?.message).toBe('must be >= 0 (minimum 0, got -5)');
    expect(issues.find((i) => i.keyword === 'maxLength')?.message).toBe(
      'must be at most 3 characters long (maxLength 3, got "DOLLARS")',
    );
    expect(issues.find((i) => i.keyword === 'maxItems')?.message).toBe(
      'must have at most 2 items (maxItems 2, got 4)',
    );
    expect(issues.find((i) => i.keyword === 'uniqueItems')?.message).toContain('items 0 and 1 are equal');
  });

  it('passes an output that keeps every constraint, and null for "not found"', () => {
    expect(
      rules(constrained, { invoice_number: 'INV-1001', total: 0, currency: 'USD', tags: ['a', 'b'] }),
    ).toEqual([]);
    expect(rules(constrained, { invoice_number: null, total: null, currency: null, tags: [] })).toEqual([]);
  });

  it.each([
    ['minLength', { type: 'string', minLength: 2 }, 'a', 'ab'],
    ['maxLength', { type: 'string', maxLength: 2 }, 'abc', 'ab'],
    ['pattern', { type: 'string', pattern: '^[A-Z]{2}$' }, 'ABC', 'AB'],
    ['minimum', { type: 'number', minimum: 1 }, 0.5, 1],
    ['maximum', { type: 'integer', maximum: 10 }, 11, 10],
    ['exclusiveMinimum', { type: 'number', exclusiveMinimum: 0 }, 0, 0.01],
    ['exclusiveMaximum', { type: 'number', exclusiveMaximum: 100 }, 100, 99.99],
    ['multipleOf', { type: 'number', multipleOf: 0.5 }, 0.3, 1.5],
    ['minItems', { type: 'array', items: { type: 'string' }, minItems: 2 }, ['a'], ['a', 'b']],
    ['maxItems', { type: 'array', items: { type: 'string' }, maxItems: 1 }, ['a', 'b'], ['a']],
    ['uniqueItems', { type: 'array', items: { type: 'integer' }, uniqueItems: true }, [1, 1], [1, 2]],
    ['format', { type: 'string', format: 'uuid' }, 'not-a-uuid', '123e4567-e89b-12d3-a456-426614174000'],
    ['format', { type: 'string', format: 'ipv4' }, '300.1.1.1', '192.168.0.1'],
    ['format', { type: 'string', format: 'ipv6' }, '::g', '::1'],
    ['format', { type: 'string', format: 'hostname' }, 'bad_host', 'example.com'],
    ['format', { type: 'string', format: 'duration' }, 'P', 'PT1H30M'],
  ])('%s: %j', (keyword, schema, bad, good) => {
    const p = pattern({ v: schema });
    expect(rules(p, { v: bad })).toEqual([`/v ${keyword}`]);
    expect(rules(p, { v: good })).toEqual([]);
  });

  it('applies to list items and nested objects', () => {
    const p = pattern({
      lines: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            sku: { type: 'string', pattern: '^[0-9]{4}$' },
            qty: { type: 'integer', minimum: 1 },
          },
        },
      },
      codes: { type: 'array', items: { type: 'string', maxLength: 2 } },
    });
    expect(rules(p, { lines: [{ sku: '12', qty: 0 }], codes: ['abc'] })).toEqual([
      '/lines/0/sku pattern',
      '/lines/0/qty minimum',
      '/codes/0 maxLength',
    ]);
  });

  it('throws SchemaMismatchError carrying every issue, the message naming fields and rules', async () => {
    const error = await caught(() =>
      assertConforms(constrained, { invoice_number: 'x', total: -1, currency: 'EURO', tags: [] }, 'inv.png'),
    );
    expect(error).toBeInstanceOf(SchemaMismatchError);
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect((error as SchemaMismatchError).issues.map((i) => i.keyword).sort()).toEqual([
      'maxLength',
      'minimum',
      'pattern',
    ]);
    expect(error.message).toContain('/total must be >= 0 (minimum 0, got -1)');
  });
});

describe('constraints at load', () => {
  it.each([
    [{ type: 'string', pattern: '([a-z' }, /pattern is not a valid regular expression/],
    [{ type: 'string', minLength: -1 }, /minLength must be a whole number ≥ 0 \(got -1\)/],
    [{ type: 'string', maxLength: 2.5 }, /maxLength must be a whole number ≥ 0/],
    [{ type: 'number', minimum: '0' }, /minimum must be a finite number \(got "0"\)/],
    [{ type: 'number', multipleOf: 0 }, /multipleOf must be a number > 0/],
    [{ type: 'array', items: { type: 'string' }, uniqueItems: 'yes' }, /uniqueItems must be true or false/],
    [{ type: 'string', minLength: 4, maxLength: 3 }, /minLength 4 is greater than maxLength 3/],
    [{ type: 'number', minimum: 10, maximum: 1 }, /minimum 10 is greater than maximum 1/],
    [
      { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 2 },
      /minItems 3 is greater than maxItems 2/,
    ],
  ])('refuses %j as INVALID_PATTERN naming the place', async (schema, message) => {
    const error = await caught(() => pattern({ v: schema }));
    expect(error.code).toBe('INVALID_PATTERN');
    expect(error.message).toMatch(/^c\.json: json_schema at \/properties\/v: /);
    expect(error.message).toMatch(message);
  });

  it('keeps constraints through $ref, anyOf-with-null and allOf', () => {
    const p = parsePattern(
      {
        name: 'R',
        instructions: 'x',
        format: 'json',
        json_schema: {
          type: 'object',
          properties: {
            a: { $ref: '#/$defs/code' },
            b: { anyOf: [{ type: 'string', maxLength: 2 }, { type: 'null' }] },
            c: { allOf: [{ $ref: '#/$defs/amount' }], description: 'C' },
          },
          $defs: { code: { type: 'string', pattern: '^[A-Z]+$' }, amount: { type: 'number', minimum: 0 } },
        },
      },
      'r',
    );
    expect(p.schema.properties.a).toMatchObject({ pattern: '^[A-Z]+$' });
    expect(p.schema.properties.b).toMatchObject({ maxLength: 2 });
    expect(p.schema.properties.c).toMatchObject({ minimum: 0, description: 'C' });
  });

  it('is part of the fingerprint: a changed constraint is a different pattern', () => {
    const a = pattern({ v: { type: 'number', minimum: 0 } });
    const b = pattern({ v: { type: 'number', minimum: 1 } });
    const c = pattern({ v: { type: 'number' } });
    expect(new Set([a.fingerprint, b.fingerprint, c.fingerprint]).size).toBe(3);
  });

  it('required fields are part of the fingerprint too', () => {
    const props = { v: { type: 'string' } };
    expect(pattern(props, { required: ['v'] }).fingerprint).not.toBe(pattern(props).fingerprint);
  });
});

describe('what cannot be enforced', () => {
  it('lists each keyword nobody checks, with its place in the schema', () => {
    const p = pattern({
      a: { type: 'string', not: { const: 'x' } },
      b: { type: 'string', format: 'iri' },
      c: { type: 'string', minimum: 3 },
      d: { type: 'object', properties: { e: { type: 'string' } }, additionalProperties: { type: 'string' } },
      f: { type: 'array', items: { type: 'string' }, contains: { const: 'x' } },
      g: { type: 'string', examples: ['fine'], default: 'fine', 'x-ui': 'fine', $comment: 'fine' },
    });
    expect(p.warnings).toEqual([
      'json_schema at /properties/a: "not" is not supported: values are not checked against it',
      expect.stringMatching(
        /^json_schema at \/properties\/b: format "iri" is not checked \(checked: date, .*\); it is kept in the description$/,
      ),
      'json_schema at /properties/c: minimum applies to numbers, not string: not enforced',
      'json_schema at /properties/d: additionalProperties other than false is not supported: only the listed properties are read',
      'json_schema at /properties/f: "contains" is not supported: values are not checked against it',
    ]);
    expect(p.schema.properties.b?.description).toBe('Format: iri.');
    expect(p.schema.properties.c).not.toHaveProperty('minimum');
  });

  it('loadPattern reports them once per process, however often the file is loaded', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'visionpipe-warn-'));
    try {
      const file = path.join(dir, 'p.json');
      await writeFile(
        file,
        JSON.stringify({
          name: 'W',
          instructions: 'x',
          format: 'json',
          json_schema: { type: 'object', properties: { a: { type: 'string', if: { const: 'x' } } } },
        }),
      );
      const seen: string[] = [];
      await loadPattern(file, { onWarning: (m) => seen.push(m) });
      await loadPattern(file, { onWarning: (m) => seen.push(m) });
      expect(seen).toEqual([
        `${file}: json_schema at /properties/a: "if" is not supported: values are not checked against it`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says nothing for a pattern that is fully enforced', () => {
    expect(constrained.warnings).toEqual([]);
  });
});

describe('not found', () => {
  it('null is "not found" for every field; the fields the pattern requires are listed as missing', () => {
    const p = pattern(
      {
        id: { type: 'string' },
        note: { type: 'string' },
        lines: {
          type: 'array',
          items: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] },
        },
      },
      { required: ['id'] },
    );
    const output = { id: null, note: null, lines: [{ amount: 1 }, { amount: null }] };
    expect(validateOutput(p, output)).toEqual([]);
    expect(missingRequired(p, output)).toEqual(['/id', '/lines/1/amount']);
    expect(missingRequired(p, { id: 'A', note: null, lines: [] })).toEqual([]);
  });
});

describe('docs/patterns.md', () => {
  it('shows the issues the validator really writes', async () => {
    const doc = await readFile(path.resolve(import.meta.dirname, '../../docs/patterns.md'), 'utf8');
    const table = doc.slice(doc.indexOf('| output | issue |'));
    const rows = [...table.matchAll(/^\| `"(\w+)": (.+?)` \| (.+) \|$/gm)];
    expect(rows).toHaveLength(4);
    const good = { invoice_number: 'INV-1', total: 1, currency: 'USD', tags: [] as string[] };
    for (const [, field, json, issues] of rows) {
      const messages = validateOutput(constrained, { ...good, [field!]: JSON.parse(json!) }).map(
        (issue) => `${issue.path} ${issue.message}`,
      );
      for (const shown of issues!.matchAll(/`([^`]+)`/g)) {
        const text = shown[1]!;
        const prefix = text.endsWith('…)') ? text.slice(0, -2) : text;
        expect(
          messages.some((m) => m.startsWith(prefix)),
          text,
        ).toBe(true);
      }
    }
  });
});

describe('issue messages, one per rule', () => {
  it.each([
    [{ type: 'string', minLength: 1 }, '', '/v must be at least 1 character long (minLength 1, got "")'],
    [{ type: 'string', maxLength: 1 }, 'ab', '/v must be at most 1 character long (maxLength 1, got "ab")'],
    [{ type: 'number', maximum: 10 }, 11, '/v must be <= 10 (maximum 10, got 11)'],
    [{ type: 'number', exclusiveMinimum: 0 }, 0, '/v must be > 0 (exclusiveMinimum 0, got 0)'],
    [{ type: 'number', exclusiveMaximum: 1 }, 1, '/v must be < 1 (exclusiveMaximum 1, got 1)'],
    [{ type: 'number', multipleOf: 0.5 }, 0.3, '/v must be a multiple of 0.5 (multipleOf 0.5, got 0.3)'],
    [
      { type: 'array', items: { type: 'string' }, minItems: 2 },
      ['a'],
      '/v must have at least 2 items (minItems 2, got 1)',
    ],
    [
      { type: 'array', items: { type: 'string' }, maxItems: 1 },
      ['a', 'b'],
      '/v must have at most 1 item (maxItems 1, got 2)',
    ],
    [
      { type: 'array', items: { type: 'string' }, uniqueItems: true },
      ['x', 'y', 'x'],
      '/v must not repeat an item: items 0 and 2 are equal (uniqueItems, got "x" twice)',
    ],
  ])('%j with %j', (schema, value, message) => {
    const issues = validateOutput(pattern({ v: schema }), { v: value });
    expect(issues.map((i) => `${i.path} ${i.message}`)).toEqual([message]);
  });

  it('validates unions of scalar types', () => {
    const p = pattern({ v: { type: ['string', 'number'] } });
    expect(validateOutput(p, { v: 1 })).toEqual([]);
    expect(validateOutput(p, { v: 'a' })).toEqual([]);
    expect(validateOutput(p, { v: true }).map((i) => i.keyword)).toEqual(['type']);
  });

  it('points into fields whose names hold / and ~ and shows their value', () => {
    const issues = validateOutput(pattern({ 'a/b': { type: 'number' }, 'c~d': { type: 'number' } }), {
      'a/b': 'x',
      'c~d': 'y',
    });
    expect(issues.map((i) => `${i.path} ${i.message}`)).toEqual([
      '/a~1b must be number or null (got "x")',
      '/c~0d must be number or null (got "y")',
    ]);
  });

  it('says "and N more" only past three issues', async () => {
    const p = pattern({ a: { type: 'number' }, b: { type: 'number' }, c: { type: 'number' } });
    const three = await caught(() => assertConforms(p, { a: 'x', b: 'x', c: 'x' }));
    expect(three.message).not.toContain('more');
    expect(three.message.match(/; /g)).toHaveLength(2);
  });
});

describe('missingRequired walks what is there', () => {
  const p = pattern(
    {
      'a/b': { type: 'string' },
      'c~d': { type: 'string' },
      address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      lines: {
        type: 'array',
        items: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] },
      },
    },
    { required: ['a/b', 'c~d'] },
  );

  it('reads escaped pointers', () => {
    expect(p.requiredFields).toEqual(['/a~1b', '/c~0d', '/address/city', '/lines/*/amount']);
    expect(missingRequired(p, { 'a/b': null, 'c~d': null, address: null, lines: [] })).toEqual([
      '/a~1b',
      '/c~0d',
    ]);
  });

  it('passes over null objects and lists, and shapes that are not what the pattern says', () => {
    const base = { 'a/b': 'x', 'c~d': 'y' };
    expect(missingRequired(p, { ...base, address: null, lines: null })).toEqual([]);
    expect(missingRequired(p, { ...base, address: { city: null }, lines: { amount: null } })).toEqual([
      '/address/city',
    ]);
    expect(missingRequired(p, { ...base, address: ['x'], lines: [null, { amount: null }] })).toEqual([
      '/lines/1/amount',
    ]);
    expect(missingRequired(p, null)).toEqual([]);
  });
});
