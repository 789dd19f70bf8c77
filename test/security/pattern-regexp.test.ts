/**
 * A hostile `pattern` keyword (issue 12, trial): a regular expression with nested
 * quantifiers tested against text read from an image must not stall the process.
 * `^(a+)+$` against 40 `a` and a `!` backtracks for hours in plain V8; here the test is
 * time-limited and counts as "does not match" (SCHEMA_MISMATCH), and ordinary patterns
 * keep working.
 */
import { describe, expect, it } from 'vitest';
import { parsePattern, validateOutput } from '../../src/patterns/index.js';

const patternWith = (regexp: string) =>
  parsePattern(
    {
      name: 'Regexp',
      format: 'json',
      instructions: 'x',
      json_schema: { type: 'object', properties: { code: { type: 'string', pattern: regexp } } },
    },
    'regexp.json',
  );

describe('pattern keyword', () => {
  it.each(['^(a+)+$', '^(\\w+\\s?)*$', '(a|a)*$'])(
    '%s against a backtracking string ends, as a mismatch',
    (regexp) => {
      const issues = validateOutput(patternWith(regexp), { code: `${'a'.repeat(40)}!` });
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatchObject({ path: '/code', keyword: 'pattern' });
    },
  );

  it('ordinary patterns still match and refuse', () => {
    const pattern = patternWith('^[A-Z]{3}-\\d{4}$');
    expect(validateOutput(pattern, { code: 'INV-2024' })).toEqual([]);
    expect(validateOutput(pattern, { code: 'inv-2024' })).toHaveLength(1);
  });
});
