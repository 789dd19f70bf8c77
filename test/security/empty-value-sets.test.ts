/**
 * Constraints that each look sensible but leave no value (issue 12, "empty value set"):
 * every image was paid for and then failed SCHEMA_MISMATCH. A required field with such a
 * schema is now INVALID_PATTERN naming the field and why, exit 2, before any call. So are
 * (trial lows) an integer field whose decimal `multipleOf` admits no integer in its range,
 * an anchored literal `pattern` the field's other constraints refuse, and `allOf` branches
 * that conflict (types, bounds, literal patterns, allowed values); satisfiable look-alikes
 * of each still load.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePattern, parsePatternText } from '../../src/patterns/index.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const pattern = (field: Record<string, unknown>, required = true) =>
  JSON.stringify({
    name: 'empty',
    format: 'json',
    instructions: 'Read it.',
    json_schema: {
      type: 'object',
      properties: { code: field },
      required: required ? ['code'] : [],
    },
  });
const load = (text: string) => parsePattern(parsePatternText(text, 'p.json'), 'p.json');

describe('empty value sets', () => {
  it.each([
    [
      { type: 'integer', multipleOf: 2, minimum: 1, maximum: 1 },
      'no integer multiple of 2 lies between 1 and 1',
    ],
    [{ type: 'string', const: 'x', enum: ['y'] }, 'const "x" is not one of enum ["y"]'],
    [{ type: 'string', not: {} }, '"not" holds a schema every value matches'],
    [{ type: 'string', minLength: 5, enum: ['ab'] }, 'none of the allowed values ["ab"]'],
    [{ type: 'integer', minimum: 1.2, maximum: 1.8 }, 'no integer lies between 1.2 and 1.8'],
    [{ type: 'string', const: 7 }, 'none of the allowed values [7] is a string'],
    [{ type: 'integer', enum: [1.5, 2.5] }, 'none of the allowed values [1.5,2.5] is an integer'],
    [
      { type: 'number', multipleOf: 10, exclusiveMinimum: 0, exclusiveMaximum: 10 },
      'no multiple of 10 lies between 0 and 10',
    ],
    [{ type: 'string', pattern: '^[0-9]+$', enum: ['abc'] }, 'none of the allowed values ["abc"]'],
  ])('%j on a required field is INVALID_PATTERN', (field, reason) => {
    let error: unknown;
    try {
      load(pattern(field));
    } catch (caught) {
      error = caught;
    }
    expect((error as { code?: string }).code).toBe('INVALID_PATTERN');
    const message = (error as Error).message;
    expect(message).toContain('required field /code has an empty value set');
    expect(message).toContain(reason);
  });

  it.each([
    [{ type: 'integer', multipleOf: 2, minimum: 1, maximum: 2 }],
    [{ type: 'integer', minimum: 1.2, maximum: 2 }],
    [{ type: 'number', minimum: 1.2, maximum: 1.8 }],
    [{ type: 'number', multipleOf: 0.1, minimum: 0.3, maximum: 0.3 }],
    [{ type: 'string', const: 'x', enum: ['x', 'y'] }],
    [{ type: 'string', minLength: 2, enum: ['ab', 'a'] }],
    [{ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }],
    [{ type: 'string', not: { const: 'x' } }],
  ])('%j still loads', (field) => {
    expect(() => load(pattern(field))).not.toThrow();
  });

  it('an optional field with an empty value set loads with a warning (it can only be null)', () => {
    const loaded = load(pattern({ type: 'string', const: 'x', enum: ['y'] }, false));
    expect(loaded.warnings.join('\n')).toContain('field /code has an empty value set');
  });

  it('a list that must hold items no value can fill is INVALID_PATTERN', () => {
    expect(() => load(pattern({ type: 'array', minItems: 1, items: { type: 'string', not: {} } }))).toThrow(
      'the items of /code have an empty value set',
    );
  });

  describe('visionpipe estimate', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await tempDir();
      await sharp({ create: { width: 32, height: 32, channels: 3, background: '#fff' } })
        .png()
        .toFile(path.join(dir, 'scan.png'));
      await writeFile(
        path.join(dir, 'empty.json'),
        pattern({ type: 'integer', multipleOf: 2, minimum: 1, maximum: 1 }),
      );
      await writeFile(
        path.join(dir, 'allof.json'),
        pattern({ allOf: [{ type: 'string' }, { type: 'integer' }] }),
      );
    });

    it('exits 2 naming the field and the conflict of its allOf branches', async () => {
      const result = await runCli(['estimate', 'scan.png', '-p', 'allof.json'], { cwd: dir });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('error [INVALID_PATTERN]: allof.json:');
      expect(result.stderr).toContain(
        '/properties/code: the branches of allOf conflict: type string in one branch and integer in another',
      );
    });

    it('exits 2 naming the field and why', async () => {
      const result = await runCli(['estimate', 'scan.png', '-p', 'empty.json'], { cwd: dir });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('error [INVALID_PATTERN]: empty.json:');
      expect(result.stderr).toContain(
        'required field /code has an empty value set: no integer multiple of 2 lies between 1 and 1',
      );
    });
  });
});

function refusal(field: Record<string, unknown>): string {
  try {
    load(pattern(field));
  } catch (error) {
    expect((error as { code?: string }).code).toBe('INVALID_PATTERN');
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(field)} loaded`);
}

describe('patterns no answer can satisfy', () => {
  it.each([
    // Integers that are multiples of 2.5 are multiples of 5: none lies in 1..4.
    [
      { type: 'integer', multipleOf: 2.5, minimum: 1, maximum: 4 },
      'no integer multiple of 2.5 lies between 1 and 4',
    ],
    [
      { type: 'integer', multipleOf: 0.4, minimum: 3, maximum: 3 },
      'no integer multiple of 0.4 lies between 3 and 3',
    ],
    [
      { type: 'string', pattern: '^INV-001$', minLength: 10 },
      'pattern ^INV-001$ allows only "INV-001", which does not meet',
    ],
  ])('%j: the field has an empty value set', (field, reason) => {
    const message = refusal(field);
    expect(message).toContain('required field /code has an empty value set');
    expect(message).toContain(reason);
  });

  it.each([
    [
      { allOf: [{ type: 'string' }, { type: 'integer' }] },
      'type string in one branch and integer in another',
    ],
    [
      { allOf: [{ type: 'number', minimum: 10 }, { maximum: 5 }] },
      'minimum 10 is not below maximum 5 of another branch',
    ],
    [
      { allOf: [{ type: 'integer', minimum: 5 }, { exclusiveMaximum: 5 }] },
      'minimum 5 is not below exclusiveMaximum 5 of another branch',
    ],
    [
      { allOf: [{ type: 'string', pattern: '^A$' }, { pattern: '^B$' }] },
      'pattern ^A$ allows only "A", which pattern ^B$ refuses',
    ],
    [
      { allOf: [{ type: 'string', pattern: '^INV-1$' }, { pattern: '^[0-9]+$' }] },
      'which pattern ^[0-9]+$ refuses',
    ],
    [
      { allOf: [{ enum: ['a', 'b'] }, { const: 'c' }] },
      'the allowed values ["a","b"] and ["c"] have none in common',
    ],
  ])('%j: allOf branches that conflict are named', (field, conflict) => {
    const message = refusal(field);
    expect(message).toContain('json_schema at /properties/code: the branches of allOf conflict');
    expect(message).toContain(conflict);
    expect(message).toContain('so no answer can meet it');
  });

  it.each([
    [{ type: 'integer', multipleOf: 2.5, minimum: 1, maximum: 5 }],
    [{ type: 'integer', multipleOf: 0.4, minimum: 3, maximum: 4 }],
    [{ type: 'integer', multipleOf: 0.3, minimum: 1, maximum: 3 }],
    [{ type: 'string', pattern: '^INV-001$', minLength: 7 }],
    [{ type: 'string', pattern: '^INV-[0-9]+$', minLength: 10 }],
    [{ type: 'string', pattern: '^a.c$', maxLength: 3 }],
  ])('%j still loads (satisfiable)', (field) => {
    expect(() => load(pattern(field))).not.toThrow();
  });

  it.each([
    [{ allOf: [{ type: 'integer' }, { type: 'number' }] }],
    [{ allOf: [{ type: 'number', minimum: 5 }, { maximum: 5 }] }],
    [{ allOf: [{ type: 'string', pattern: '^A$' }, { pattern: '^[A-Z]$' }] }],
    [{ allOf: [{ enum: ['a', 'b'] }, { const: 'b' }] }],
  ])('%j: satisfiable allOf is not called a conflict (still unsupported: merge it)', (field) => {
    const message = refusal(field);
    expect(message).not.toContain('conflict');
    expect(message).toContain('allOf with more than one schema is not supported');
  });
});
