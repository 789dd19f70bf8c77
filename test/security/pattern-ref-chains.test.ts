/**
 * `$ref` chains (issue 12, second trial): resolving a chain copied the list of refs seen at
 * every step, so a chain of n refs cost n² and was paid again by every field using it
 * (0.28 MB: 392 s of CPU; a 45 000-ref chain in 1 MB: 56 s, then accepted with 45 000
 * warnings). Refs are now tracked in a set, every `$ref` followed is counted against a
 * budget (refChain for one field, refSteps for the whole schema), and warnings are capped.
 * Tests assert on the refusal and on the step counter, never on time.
 */
import { describe, expect, it } from 'vitest';
import { isVisionpipeError } from '../../src/errors.js';
import { PATTERN_LIMITS, type PatternLimitName } from '../../src/patterns/budget.js';
import { parsePattern } from '../../src/patterns/index.js';
import { MAX_WARNINGS, normalizeJsonSchema } from '../../src/patterns/normalize-json-schema.js';

/** Defs `0`…`chain` at the root, each a `$ref` to the one before, and `fields` fields using the last (the trial's mk3.mjs). */
function chainSchema(chain: number, fields: number): Record<string, unknown> {
  const schema: Record<string, unknown> = { type: 'object', properties: {} };
  schema['0'] = { type: 'string' };
  for (let i = 1; i <= chain; i++) schema[i.toString(36)] = { $ref: `#/${(i - 1).toString(36)}` };
  const properties = schema.properties as Record<string, unknown>;
  for (let p = 0; p < fields; p++) properties[`p${p.toString(36)}`] = { $ref: `#/${chain.toString(36)}` };
  return schema;
}

const pattern = (json_schema: Record<string, unknown>) => ({
  name: 'p',
  format: 'json',
  instructions: 'x',
  json_schema,
});

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(isVisionpipeError(error), String(error)).toBe(true);
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
}

function expectLimit(fn: () => unknown, limit: PatternLimitName): void {
  const error = refusal(fn);
  expect(error.code).toBe('INVALID_PATTERN');
  expect(error.message).toContain(`pattern limit ${limit} (${PATTERN_LIMITS[limit]}) exceeded`);
}

describe('$ref chains resolve in linear time and within a budget', () => {
  it('the trial fan-out (a 3 000-ref chain used by 9 000 fields, 0.28 MB) is refused by refChain', () => {
    const schema = chainSchema(3_000, 9_000);
    expect(JSON.stringify(schema).length).toBeLessThan(300_000);
    expectLimit(() => parsePattern(pattern(schema), 'fan3.json'), 'refChain');
  });

  it('a single 45 000-ref chain (1 MB) is refused by refChain, not accepted with 45 000 warnings', () => {
    expectLimit(() => parsePattern(pattern(chainSchema(45_000, 1)), 'chain2.json'), 'refChain');
  });

  it('a chain at the limit loads, one ref more does not', () => {
    // properties → #/N is one ref, then N → … → 0 is N more.
    const ok = chainSchema(PATTERN_LIMITS.refChain - 1, 1);
    expect(() => normalizeJsonSchema(ok, 'ok.json')).not.toThrow();
    expectLimit(() => normalizeJsonSchema(chainSchema(PATTERN_LIMITS.refChain, 1), 'p'), 'refChain');
  });

  it('steps are linear: each field pays its own chain once, with no per-step copy of the path', () => {
    const chain = 20;
    const fields = 2_000;
    const { refSteps } = normalizeJsonSchema(chainSchema(chain, fields), 'p');
    // A ref to a {$ref} target costs 1 + 1 keyword, the last ({type}) 1 + 1: 2 per ref followed.
    expect(refSteps).toBe(fields * (chain + 1) * 2);
  });

  it('many fields each following a long-enough chain stop at the whole-schema step budget', () => {
    // 9 000 fields × 31 refs × 2 steps = 558 000 is within; a target with 100 keywords each time is not.
    const schema = chainSchema(30, 9_000);
    expect(() => normalizeJsonSchema(schema, 'p')).not.toThrow();
    const wideTarget: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100; i++) wideTarget[`x-note${i}`] = i;
    schema['0'] = wideTarget;
    expectLimit(() => normalizeJsonSchema(schema, 'p'), 'refSteps');
  });

  it('recursion through nested fields is still refused, and a ref used by siblings is not recursion', () => {
    const recursive = {
      type: 'object',
      $defs: { node: { type: 'object', properties: { child: { $ref: '#/$defs/node' } } } },
      properties: { root: { $ref: '#/$defs/node' } },
    };
    expect(refusal(() => normalizeJsonSchema(recursive, 'p')).message).toContain('recursive $ref');
    const siblings = {
      type: 'object',
      $defs: {
        money: { type: 'number' },
        line: { type: 'object', properties: { a: { $ref: '#/$defs/money' } } },
      },
      properties: { x: { $ref: '#/$defs/line' }, y: { $ref: '#/$defs/line' }, z: { $ref: '#/$defs/money' } },
    };
    expect(() => normalizeJsonSchema(siblings, 'p')).not.toThrow();
  });
});

describe('warnings are capped', () => {
  it('45 000 unknown keywords give the first warnings and one line saying how many more', () => {
    const schema: Record<string, unknown> = { type: 'object', properties: { a: { type: 'string' } } };
    for (let i = 0; i < 45_000; i++) schema[`k${i}`] = 1;
    const { warnings } = normalizeJsonSchema(schema, 'p');
    expect(warnings).toHaveLength(MAX_WARNINGS + 1);
    expect(warnings.at(-1)).toBe(
      `json_schema: ${45_000 - MAX_WARNINGS} more warnings like these not shown (the first ${MAX_WARNINGS} are)`,
    );
  });
});
