/**
 * Constraints that each look sensible but leave no value (issue 12, "empty value set"):
 * every image was paid for and then failed SCHEMA_MISMATCH. A required field with such a
 * schema is now INVALID_PATTERN naming the field and why, exit 2, before any call.
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
