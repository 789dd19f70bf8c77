/**
 * Constraints no answer can meet (issue 12, third trial): `minItems: 200000000`, a
 * `minLength` longer than any answer, `minimum` above `maximum` were accepted at load, so
 * every image was paid for and then failed. Now INVALID_PATTERN names the field and the limit,
 * exit 2, before any call.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePattern, parsePatternText } from '../../src/patterns/index.js';

const load = (text: string) => parsePattern(parsePatternText(text, 'p.json'), 'p.json');

import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';

const pattern = (field: Record<string, unknown>) =>
  JSON.stringify({
    name: 'impossible',
    format: 'json',
    instructions: 'Read it.',
    json_schema: { type: 'object', properties: { items: field }, required: ['items'] },
  });

describe('impossible constraints', () => {
  it.each([
    [
      { type: 'array', items: { type: 'string' }, minItems: 200_000_000 },
      'pattern limit minCount (100000) exceeded: minItems 200000000 at /items',
    ],
    [
      { type: 'string', minLength: 5_000_000 },
      'pattern limit minCount (100000) exceeded: minLength 5000000 at /items',
    ],
    [
      { type: 'string', minLength: 10, maxLength: 5 },
      'minLength 10 is greater than maxLength 5: no value can satisfy both',
    ],
    [
      { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 2 },
      'minItems 3 is greater than maxItems 2',
    ],
    [{ type: 'number', minimum: 10, maximum: 1 }, 'minimum 10 is greater than maximum 1'],
    [
      { type: 'number', exclusiveMinimum: 5, exclusiveMaximum: 5 },
      'exclusiveMinimum 5 is not below exclusiveMaximum 5',
    ],
    [{ type: 'number', minimum: 5, exclusiveMaximum: 5 }, 'minimum 5 is not below exclusiveMaximum 5'],
  ])('%j is INVALID_PATTERN', (field, message) => {
    expect(() => load(pattern(field))).toThrow(message);
  });

  it('the limits themselves load', () => {
    expect(() =>
      parsePatternText(
        pattern({
          type: 'array',
          items: { type: 'string', minLength: 100_000 },
          minItems: 100_000,
          maxItems: 100_000,
        }),
        'p.json',
      ),
    ).not.toThrow();
    expect(() => load(pattern({ type: 'number', minimum: 5, maximum: 5 }))).not.toThrow();
  });

  describe('visionpipe run', () => {
    let server: CompatibleServer;
    let dir: string;
    beforeAll(async () => {
      server = await startCompatibleServer('{"items": []}');
      dir = await tempDir();
      await sharp({ create: { width: 32, height: 32, channels: 3, background: '#fff' } })
        .png()
        .toFile(path.join(dir, 'scan.png'));
      await writeFile(
        path.join(dir, 'huge.json'),
        pattern({ type: 'array', items: { type: 'string' }, minItems: 200_000_000 }),
      );
    });
    afterAll(() => server.close());

    it('exits 2 naming the field and the limit, before any call', async () => {
      const result = await runCli(
        [
          'run',
          'scan.png',
          '-p',
          'huge.json',
          '-o',
          'out.jsonl',
          '--provider',
          'openai',
          '--base-url',
          server.baseUrl,
          '--no-progress',
          '--cache',
          'off',
        ],
        { cwd: dir, env: { OPENAI_API_KEY: 'sk-test-0000000000000' } },
      );
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(
        'error [INVALID_PATTERN]: huge.json: pattern limit minCount (100000) exceeded: minItems 200000000 at /items',
      );
      expect(server.calls).toHaveLength(0);
    });
  });
});
