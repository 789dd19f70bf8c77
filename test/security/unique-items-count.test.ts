/**
 * `uniqueItems: true` over items allowing fewer distinct values than `minItems` (issue 12,
 * new-user trial): an `enum` of 2 values with `minItems: 3` loaded, and no answer could meet
 * it. Refused at load naming the field; the satisfiable look-alike (minItems 2) loads.
 */
import { describe, expect, it } from 'vitest';
import { parsePattern, parsePatternText } from '../../src/patterns/index.js';

const load = (field: Record<string, unknown>) =>
  parsePattern(
    parsePatternText(
      JSON.stringify({
        name: 'unique',
        format: 'json',
        instructions: 'Read it.',
        json_schema: { type: 'object', properties: { tags: field }, required: ['tags'] },
      }),
      'p.json',
    ),
    'p.json',
  );

const list = (items: Record<string, unknown>, minItems: number) => ({
  type: 'array',
  items,
  uniqueItems: true,
  minItems,
});

describe('uniqueItems with too few distinct item values', () => {
  it.each([
    [{ type: 'string', enum: ['a', 'b'] }, 3, 'only 2 distinct values and minItems is 3'],
    [{ type: 'boolean' }, 3, 'only 2 distinct values and minItems is 3'],
    [{ type: 'string', const: 'a' }, 2, 'only 1 distinct value and minItems is 2'],
  ])('%j with minItems %i is refused at load, naming the field', (items, minItems, why) => {
    let thrown: unknown;
    try {
      load(list(items, minItems));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'INVALID_PATTERN' });
    expect(String((thrown as Error).message)).toContain('tags');
    expect(String((thrown as Error).message)).toContain(why);
  });

  it('the satisfiable look-alikes load', () => {
    expect(() => load(list({ type: 'string', enum: ['a', 'b'] }, 2))).not.toThrow();
    expect(() => load(list({ type: 'boolean' }, 2))).not.toThrow();
    expect(() => load(list({ type: 'string' }, 5))).not.toThrow();
    expect(() =>
      load({ type: 'array', items: { type: 'string', enum: ['a', 'b'] }, minItems: 3 }),
    ).not.toThrow();
  });
});
