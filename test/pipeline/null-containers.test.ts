/**
 * "Not found" for a required object or list (issue 11 trial): a model that answers a plain
 * `null` where the pattern requires an object or a list keeps the fields it found. The
 * null is read as the field's empty value (object with null fields, `[]`), and the record
 * says so; a wrong value that is not null still fails validation. Real providers through
 * the real pipeline against loopback servers, and the helper on its own.
 */
import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import { fillNullContainers } from '../../src/patterns/null-containers.js';
import { answerServers, type Kind, openaiBody, toolUse } from '../support/provider-answers.js';

const pattern = parsePattern(
  {
    name: 'invoice-nested',
    format: 'json',
    instructions: 'Invoice with address and items.',
    json_schema: {
      type: 'object',
      properties: {
        invoice_number: { type: 'string' },
        total: { type: 'number' },
        addr: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        items: { type: 'array', items: { type: 'string' } },
        lines: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              amount: { type: 'number' },
              tax: { type: 'object', properties: { rate: { type: 'number' } }, required: ['rate'] },
            },
            required: ['amount', 'tax'],
          },
        },
        note: { type: 'object', properties: { text: { type: 'string' } } },
      },
      required: ['invoice_number', 'total', 'addr', 'items', 'lines'],
    },
  },
  'invoice-nested',
);

const { recordFor } = answerServers(pattern);

describe('a null for a required object or list is "not found", and the found fields stay', () => {
  it.each<[string, Kind, (answer: unknown) => unknown]>([
    ['openai content', 'openai', (answer) => openaiBody({ content: JSON.stringify(answer) })],
    ['anthropic tool_use', 'anthropic', (answer) => toolUse(answer, 'invoice-nested')],
  ])('%s', async (_name, kind, body) => {
    const answer = {
      invoice_number: 'A1',
      total: 10.5,
      addr: null,
      items: null,
      lines: [{ amount: 3, tax: null }],
      note: null,
    };
    const { record, calls } = await recordFor(kind, body(answer));
    expect(record.error).toBeNull();
    expect(record.status).toBe('ok');
    expect(record.output).toEqual({
      invoice_number: 'A1',
      total: 10.5,
      addr: { city: null },
      items: [],
      lines: [{ amount: 3, tax: { rate: null } }],
      note: null,
    });
    expect(record.cascade.repair).toBe(
      'null for required object or list /addr, /items, /lines/0/tax read as not found (its fields null, [] for a list)',
    );
    expect(calls).toBe(1);
  });

  it('a wrong value that is not null still fails, naming the field', async () => {
    const answer = { invoice_number: 'A1', total: 10.5, addr: 'Delhi', items: null, lines: [], note: null };
    const { record } = await recordFor('openai', openaiBody({ content: JSON.stringify(answer) }));
    expect(record.status).toBe('error');
    expect(record.error?.code).toBe('SCHEMA_MISMATCH');
    expect(record.error?.message).toContain('/addr must be object');
  });
});

describe('fillNullContainers', () => {
  it('leaves a conforming answer as the same value, a whole null answer and nullable fields alone', () => {
    const conforming = {
      invoice_number: null,
      total: null,
      addr: { city: null },
      items: [],
      lines: [],
      note: null,
    };
    expect(fillNullContainers(pattern, conforming)).toEqual({ output: conforming, filled: [] });
    expect(fillNullContainers(pattern, conforming).output).toBe(conforming);
    expect(fillNullContainers(pattern, null)).toEqual({ output: null, filled: [] });
  });
});
