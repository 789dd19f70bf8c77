/**
 * Hostile patterns (issue 12): a pattern is untrusted input. `$ref` bombs, deep nesting and
 * huge schemas fail when the pattern loads, as INVALID_PATTERN naming the limit, before any
 * provider is called; never an uncaught RangeError, never out of memory.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVisionpipeError } from '../../src/errors.js';
import { PATTERN_LIMITS, type PatternLimitName } from '../../src/patterns/budget.js';
import { loadPattern, parsePattern } from '../../src/patterns/index.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';

/** `$defs` d0…dN, each referencing the previous one twice: 2^N fields once inlined, in ~2 KB. */
function refBomb(levels = 40): Record<string, unknown> {
  const defs: Record<string, unknown> = { d0: { type: 'string' } };
  for (let i = 1; i <= levels; i++)
    defs[`d${i}`] = {
      type: 'object',
      properties: { a: { $ref: `#/$defs/d${i - 1}` }, b: { $ref: `#/$defs/d${i - 1}` } },
    };
  return {
    name: 'Bomb',
    format: 'json',
    instructions: 'x',
    json_schema: { type: 'object', $defs: defs, properties: { root: { $ref: `#/$defs/d${levels}` } } },
  };
}

/** A JSON Schema whose fields nest `depth` objects deep. */
function nested(depth: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < depth; i++) schema = { type: 'object', properties: { f: schema } };
  return { name: 'Deep', format: 'json', instructions: 'x', json_schema: schema };
}

function wide(fields: number, description = ''): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < fields; i++)
    properties[`f${i}`] = description ? { type: 'string', description } : { type: 'string' };
  return { name: 'Wide', format: 'json', instructions: 'x', json_schema: { type: 'object', properties } };
}

/** One field whose enum holds `count` short values (`e0`, `e1`, …). */
function oneEnum(count: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const values = Array.from({ length: count }, (_, i) => `e${i}`);
  return {
    name: 'Enum',
    format: 'json',
    instructions: 'x',
    json_schema: { type: 'object', properties: { kind: { type: 'string', enum: values } }, ...extra },
  };
}

function expectLimit(fn: () => unknown, limit: PatternLimitName): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isVisionpipeError(thrown), String(thrown)).toBe(true);
  const error = thrown as { code: string; message: string };
  expect(error.code).toBe('INVALID_PATTERN');
  expect(error.message).toContain(`pattern limit ${limit} (${PATTERN_LIMITS[limit]})`);
}

describe('pattern budgets (parsePattern: files, API payloads, stored patterns)', () => {
  it('a $ref bomb stops at the node budget instead of expanding to 2^24 fields', () => {
    const bomb = refBomb(24); // 2^24 fields, 24 deep: the node budget, not the depth, stops it
    expect(JSON.stringify(bomb).length).toBeLessThan(4096);
    expectLimit(() => parsePattern(bomb, 'bomb.json'), 'schemaNodes');
  });

  it('a $ref chain within budget still loads (the budget counts, it does not forbid $refs)', () => {
    const pattern = parsePattern(refBomb(8), 'ok.json'); // 2^8 = 256 leaves, 511 nodes
    expect(JSON.stringify(pattern.schema).length).toBeGreaterThan(10_000);
  });

  it('a document nested 1 000 deep is refused by depth, not by a RangeError', () => {
    expectLimit(() => parsePattern(nested(1000), 'deep.json'), 'sourceDepth');
    expectLimit(() => parsePattern(nested(100_000), 'deeper.json'), 'sourceDepth');
  });

  it('fields nested past the schema depth are refused though the document is shallow enough', () => {
    expectLimit(() => parsePattern(nested(PATTERN_LIMITS.schemaDepth + 1), 'deep.json'), 'schemaDepth');
    expect(() => parsePattern(nested(PATTERN_LIMITS.schemaDepth - 1), 'ok.json')).not.toThrow();
  });

  it('a 100 000-field schema is refused by the value budget; 20 000 fields by the schema budget', () => {
    expectLimit(() => parsePattern(wide(100_000), 'wide.json'), 'sourceNodes');
    expectLimit(() => parsePattern(wide(20_000), 'wide.json'), 'schemaNodes');
    expect(() => parsePattern(wide(1_000), 'ok.json')).not.toThrow();
  });

  it('a schema whose text expands past the byte budget is refused', () => {
    // 100 fields × 20 KB of description = 2 MB once expanded, from a $ref to one description.
    const description = 'd'.repeat(20_000);
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) properties[`f${i}`] = { $ref: '#/$defs/long' };
    const source = {
      name: 'Long',
      format: 'json',
      instructions: 'x',
      json_schema: { type: 'object', $defs: { long: { type: 'string', description } }, properties },
    };
    expectLimit(() => parsePattern(source, 'long.json'), 'schemaBytes');
  });

  it('example schemas (YAML, XML, JSON text) are held to the same budgets', () => {
    const deepYaml = `${Array.from({ length: 300 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n')} x`;
    expectLimit(
      () => parsePattern({ name: 'Y', format: 'yaml', instructions: 'x', yaml_schema: deepYaml }, 'y.yaml'),
      'sourceDepth',
    );
    const deepXml = `${'<a>'.repeat(5_000)}x${'</a>'.repeat(5_000)}`;
    expect(() =>
      parsePattern({ name: 'X', format: 'xml', instructions: 'x', xml_schema: deepXml }, 'x.yaml'),
    ).toThrow(/INVALID_PATTERN|pattern limit|xml_schema/);
    const deepJsonText = JSON.stringify(nested(1000).json_schema);
    expectLimit(
      () =>
        parsePattern({ name: 'J', format: 'json', instructions: 'x', json_schema: deepJsonText }, 'j.yaml'),
      'sourceDepth',
    );
    const deepExample = nested(40).json_schema as Record<string, unknown>;
    // An example object (no "type": "object" at the root) 40 fields deep.
    let example: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 40; i++) example = { f: example };
    expect(deepExample).toBeDefined();
    expectLimit(
      () => parsePattern({ name: 'E', format: 'json', instructions: 'x', json_schema: example }, 'e.json'),
      'schemaDepth',
    );
  });

  it('a pattern file larger than the file budget is not even read', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'huge.json');
    await writeFile(file, JSON.stringify({ ...wide(10), padding: ' '.repeat(PATTERN_LIMITS.fileBytes) }));
    await expect(loadPattern(file)).rejects.toThrow(`pattern limit fileBytes (${PATTERN_LIMITS.fileBytes})`);
  });
});

describe('enum and prompt budgets: what a pattern makes every image pay in prompt tokens', () => {
  it('one enum of 110 000 values (~$0.55 an image in prompt tokens) is refused by the enum budget', () => {
    expectLimit(() => parsePattern(oneEnum(110_000), 'enum.json'), 'enumValues');
  });

  it('an enum at the limit loads, one value more does not; the null of a nullable field is not counted', () => {
    expect(() => parsePattern(oneEnum(PATTERN_LIMITS.enumValues), 'ok.json')).not.toThrow();
    const nullable = oneEnum(PATTERN_LIMITS.enumValues);
    const kind = (nullable.json_schema as { properties: { kind: Record<string, unknown> } }).properties.kind;
    kind.type = ['string', 'null'];
    expect(parsePattern(nullable, 'ok.json').schema.properties.kind?.enum).toHaveLength(
      PATTERN_LIMITS.enumValues + 1,
    );
    expectLimit(() => parsePattern(oneEnum(PATTERN_LIMITS.enumValues + 1), 'enum.json'), 'enumValues');
  });

  it('enums are counted together after $refs are inlined: one 600-value enum used 10 times', () => {
    const values = Array.from({ length: 600 }, (_, i) => `v${i}`);
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 10; i++) properties[`f${i}`] = { $ref: '#/$defs/kind' };
    const source = {
      name: 'Enums',
      format: 'json',
      instructions: 'x',
      json_schema: { type: 'object', $defs: { kind: { type: 'string', enum: values } }, properties },
    };
    expectLimit(() => parsePattern(source, 'enums.json'), 'enumValuesTotal');
    for (let i = 8; i < 10; i++) delete properties[`f${i}`];
    expect(() => parsePattern(source, 'ok.json')).not.toThrow(); // 4 800 values
  });

  it('instructions and schema together are held to the prompt budget, each alone too', () => {
    const long = (text: string) => ({ ...oneEnum(3), instructions: text });
    expect(() => parsePattern(long('i'.repeat(PATTERN_LIMITS.promptBytes - 200)), 'ok.json')).not.toThrow();
    expectLimit(() => parsePattern(long('i'.repeat(PATTERN_LIMITS.promptBytes)), 'long.json'), 'promptBytes');
    // Multi-byte text counts in bytes, as a request carries it.
    expectLimit(
      () => parsePattern(long('é'.repeat(PATTERN_LIMITS.promptBytes / 2)), 'long.json'),
      'promptBytes',
    );
    // 300 KB of descriptions: under the 1 MiB schema budget, over the prompt budget.
    expectLimit(() => parsePattern(wide(100, 'd'.repeat(3_000)), 'wide.json'), 'promptBytes');
    const error = (() => {
      try {
        parsePattern(long('i'.repeat(PATTERN_LIMITS.promptBytes)), 'long.json');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(
      /^long\.json: pattern limit promptBytes \(262144\) exceeded: the instructions \(262144 bytes\) and the schema sent with every image take \d+ bytes, more than 262144$/,
    );
  });

  it('each budget at its exact limit loads; one more is refused with a message naming it', () => {
    const enums = (counts: number[]) => {
      const properties: Record<string, unknown> = {};
      counts.forEach((count, i) => {
        properties[`f${i}`] = { type: 'string', enum: Array.from({ length: count }, (_, v) => `v${v}`) };
      });
      return {
        name: 'Enums',
        format: 'json',
        instructions: 'x',
        json_schema: { type: 'object', properties },
      };
    };
    expect(() => parsePattern(enums([1000, 1000, 1000, 1000, 1000]), 'ok.json')).not.toThrow();
    expect(() => parsePattern(enums([1000, 1000, 1000, 1000, 1000, 1]), 'enums.json')).toThrow(
      /^enums\.json: pattern limit enumValuesTotal \(5000\) exceeded: the schema's enums hold more than 5000 values in all \(reached at \/f\d\)$/,
    );
    const schemaBytes = Buffer.byteLength(JSON.stringify(parsePattern(oneEnum(3), 'ok.json').schema));
    const exact = { ...oneEnum(3), instructions: 'i'.repeat(PATTERN_LIMITS.promptBytes - schemaBytes) };
    expect(() => parsePattern(exact, 'ok.json')).not.toThrow();
    exact.instructions += 'i';
    expectLimit(() => parsePattern(exact, 'long.json'), 'promptBytes');
  });

  it('the messages name the enum and the limit', () => {
    expect(() => parsePattern(oneEnum(1_001), 'enum.json')).toThrow(
      'enum.json: pattern limit enumValues (1000) exceeded: the enum at /kind has 1001 values, more than 1000',
    );
  });
});

describe('the CLI refuses a hostile pattern before any provider call (exit 2, no stack)', () => {
  let server: CompatibleServer;
  let dir: string;
  let image: string;
  beforeAll(async () => {
    server = await startCompatibleServer('{"root": null}');
    dir = await tempDir();
    image = path.join(dir, 'scan.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: '#fff' } })
      .png()
      .toFile(image);
  });
  afterAll(() => server.close());

  it.each([
    ['bomb.json', refBomb(24), 'schemaNodes'],
    ['deep.json', nested(1000), 'sourceDepth'],
    ['deep600.json', nested(600), 'sourceDepth'],
    ['enum110k.json', oneEnum(110_000), 'enumValues'],
  ] as const)('run and estimate with %s', async (name, source, limit) => {
    const file = path.join(dir, name);
    await writeFile(file, JSON.stringify(source));
    const env = { OPENAI_API_KEY: 'sk-test-budget-0000' };
    const common = ['-p', file, '--provider', 'openai', '--base-url', server.baseUrl];
    const run = await runCli(
      ['run', image, ...common, '-o', path.join(dir, `${name}.jsonl`), '--state-dir', path.join(dir, 's')],
      { env },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('INVALID_PATTERN');
    expect(run.stderr).toContain(`pattern limit ${limit} (`);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const estimate = await runCli(['estimate', image, ...common], { env });
    expect(estimate.code).toBe(2);
    expect(estimate.stderr).toContain(`pattern limit ${limit} (`);
    expect(server.calls).toHaveLength(0);
  });
});
