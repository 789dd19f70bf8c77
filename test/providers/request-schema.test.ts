/**
 * Each provider receives the constraints its structured-output mode accepts as keywords;
 * the others are said in the field's description, so no rule is silently dropped.
 */
import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import { requestSchema } from '../../src/patterns/request-schema.js';
import type { SchemaNode } from '../../src/patterns/types.js';
import { ANTHROPIC_TOOL_SUPPORT, anthropicSchema, isSimpleRegex } from '../../src/providers/anthropic.js';
import { geminiResponseSchema } from '../../src/providers/gemini.js';
import { openaiSchema } from '../../src/providers/openai.js';

const pattern = parsePattern(
  {
    name: 'Constrained',
    instructions: 'x',
    format: 'json',
    json_schema: {
      type: 'object',
      properties: {
        invoice_number: { type: 'string', pattern: '^INV-[0-9]+$', description: 'As printed' },
        total: { type: 'number', minimum: 0 },
        rate: { type: 'number', exclusiveMaximum: 1, multipleOf: 0.01 },
        currency: { type: 'string', minLength: 3, maxLength: 3 },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2, uniqueItems: true, minItems: 1 },
        site: { type: 'string', format: 'uri' },
        when: { type: 'string', format: 'date' },
        word: { type: 'string', pattern: '\\bA\\w+' },
      },
    },
  },
  'c.json',
);

const props = (schema: SchemaNode) => schema.properties!;

describe('OpenAI strict mode', () => {
  const schema = openaiSchema(pattern);
  it('keeps pattern, number bounds, item counts and its formats as keywords', () => {
    expect(props(schema).invoice_number).toMatchObject({
      pattern: '^INV-[0-9]+$',
      description: 'As printed',
    });
    expect(props(schema).total).toMatchObject({ minimum: 0 });
    expect(props(schema).rate).toMatchObject({ exclusiveMaximum: 1, multipleOf: 0.01 });
    expect(props(schema).tags).toMatchObject({ maxItems: 2, minItems: 1 });
    expect(props(schema).when).toMatchObject({ format: 'date' });
  });

  it('says string lengths, uniqueItems and the uri format in the description', () => {
    expect(props(schema).currency).toEqual({
      type: ['string', 'null'],
      description: 'Constraints: exactly 3 characters.',
    });
    expect(props(schema).tags).not.toHaveProperty('uniqueItems');
    expect(props(schema).tags?.description).toBe('Constraints: no item repeated.');
    expect(props(schema).site).toEqual({
      type: ['string', 'null'],
      description: 'Format: a URI with a scheme (https://…).',
    });
  });

  it('leaves the pattern itself untouched (validation still checks everything)', () => {
    expect(pattern.schema.properties.currency).toMatchObject({ minLength: 3, maxLength: 3 });
    expect(openaiSchema(pattern)).toBe(schema); // built once per pattern
  });
});

describe('Anthropic tool input_schema', () => {
  const schema = anthropicSchema(pattern);
  it('keeps simple patterns, formats and minItems ≤ 1 as keywords', () => {
    expect(props(schema).invoice_number).toMatchObject({ pattern: '^INV-[0-9]+$' });
    expect(props(schema).site).toMatchObject({ format: 'uri' });
    expect(props(schema).tags).toMatchObject({ minItems: 1 });
  });

  it('says bounds, lengths, maxItems, uniqueItems and complex regexes in words', () => {
    expect(props(schema).total).toEqual({
      type: ['number', 'null'],
      description: 'Constraints: at least 0.',
    });
    expect(props(schema).rate?.description).toBe('Constraints: less than 1; a multiple of 0.01.');
    expect(props(schema).currency?.description).toBe('Constraints: exactly 3 characters.');
    expect(props(schema).tags?.description).toBe('Constraints: at most 2 items; no item repeated.');
    expect(props(schema).word).toEqual({
      type: ['string', 'null'],
      description: 'Constraints: matches the regular expression \\bA\\w+.',
    });
  });

  it('takes a minItems above 1 as words too', () => {
    const p = parsePattern(
      {
        name: 'M',
        instructions: 'x',
        format: 'json',
        json_schema: { properties: { l: { type: 'array', items: { type: 'string' }, minItems: 2 } } },
      },
      'm',
    );
    expect(requestSchema(p.schema, ANTHROPIC_TOOL_SUPPORT).properties.l).toMatchObject({
      description: 'Constraints: at least 2 items.',
    });
  });

  it.each([
    ['^INV-[0-9]+$', true],
    ['^[A-Z]{2}\\d{4}$', true],
    ['(a)\\1', false],
    ['^(?=.*\\d).+$', false],
    ['(?<!x)y', false],
    ['\\bword\\b', false],
    ['^a{1,500}$', false],
    ['\\\\b', true],
  ])('isSimpleRegex(%s) is %s', (regex, simple) => {
    expect(isSimpleRegex(regex)).toBe(simple);
  });
});

describe('Gemini responseSchema', () => {
  const schema = geminiResponseSchema(pattern);
  const p = schema.properties!;
  it('keeps pattern, lengths, minimum/maximum and item counts', () => {
    expect(p.invoice_number).toMatchObject({ type: 'STRING', pattern: '^INV-[0-9]+$' });
    expect(p.currency).toMatchObject({ minLength: 3, maxLength: 3 });
    expect(p.total).toMatchObject({ type: 'NUMBER', minimum: 0 });
    expect(p.tags).toMatchObject({ type: 'ARRAY', minItems: 1, maxItems: 2 });
  });

  it('says exclusive bounds, multipleOf, uniqueItems and formats other than date-time in words', () => {
    expect(p.rate).toEqual({
      type: 'NUMBER',
      nullable: true,
      description: 'Constraints: less than 1; a multiple of 0.01.',
    });
    expect(p.tags?.description).toBe('Constraints: no item repeated.');
    expect(p.when?.description).toBe('Format: a date (YYYY-MM-DD).');
  });

  it('puts a keyword only on the branch of a union it applies to', () => {
    const union = parsePattern(
      {
        name: 'U',
        instructions: 'x',
        format: 'json',
        json_schema: { properties: { v: { type: ['string', 'number'], maxLength: 4, maximum: 9 } } },
      },
      'u',
    );
    const v = geminiResponseSchema(union).properties!.v!;
    expect(v.anyOf).toEqual([
      { type: 'STRING', maxLength: 4 },
      { type: 'NUMBER', maximum: 9 },
    ]);
  });
});
