/**
 * A schema number out of a double's range (issue 12, new-user trial): `minimum: 1e400`
 * parses to Infinity and was refused with "(got null)", as JSON writes it. The message now
 * says the number is not finite.
 */
import { describe, expect, it } from 'vitest';
import { parsePattern, parsePatternText } from '../../src/patterns/index.js';

describe('a schema number out of range', () => {
  it('minimum: 1e400 is refused saying the number is not finite, not "got null"', () => {
    const text = `{"name":"n","format":"json","instructions":"Read it.","json_schema":{"type":"object","properties":{"f":{"type":"number","minimum":1e400}},"required":["f"]}}`;
    let message = '';
    try {
      parsePattern(parsePatternText(text, 'p.json'), 'p.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('minimum');
    expect(message).toContain('not finite');
    expect(message).not.toContain('got null');
  });
});
