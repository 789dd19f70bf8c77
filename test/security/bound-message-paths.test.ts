/**
 * One path style for impossible bounds (issue 12, new-user trial): `exclusiveMinimum 3 /
 * exclusiveMaximum 3` was refused as "impossible constraint at /f" while `minimum` above
 * `maximum` said "json_schema at /properties/f". Both now name the schema path.
 */
import { describe, expect, it } from 'vitest';
import { parsePattern, parsePatternText } from '../../src/patterns/index.js';

const refusal = (field: Record<string, unknown>): string => {
  const text = JSON.stringify({
    name: 'b',
    format: 'json',
    instructions: 'Read it.',
    json_schema: { type: 'object', properties: { f: field }, required: ['f'] },
  });
  try {
    parsePattern(parsePatternText(text, 'p.json'), 'p.json');
  } catch (error) {
    return (error as Error).message;
  }
  return '(loaded)';
};

describe('impossible bounds name the json_schema path', () => {
  it.each([
    [
      { type: 'number', exclusiveMinimum: 3, exclusiveMaximum: 3 },
      'exclusiveMinimum 3 is not below exclusiveMaximum 3',
    ],
    [{ type: 'number', exclusiveMinimum: 3, maximum: 3 }, 'exclusiveMinimum 3 is not below maximum 3'],
    [{ type: 'number', minimum: 3, exclusiveMaximum: 3 }, 'minimum 3 is not below exclusiveMaximum 3'],
    [{ type: 'number', minimum: 4, maximum: 3 }, 'minimum 4 is greater than maximum 3'],
  ])('%j', (field, why) => {
    const message = refusal(field);
    expect(message).toContain('json_schema at /properties/f');
    expect(message).toContain(why);
    expect(message).not.toContain('impossible constraint at /f');
  });

  it('a satisfiable look-alike loads', () => {
    expect(refusal({ type: 'number', exclusiveMinimum: 3, exclusiveMaximum: 4 })).toBe('(loaded)');
  });
});
