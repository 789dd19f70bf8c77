import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { canonicalJson, loadPattern, parsePattern, patternFingerprint } from '../../src/patterns/index.js';
import { samplePath, tempPatterns } from './helpers/files.js';

const files = tempPatterns();

/**
 * The same object with keys in reverse order at every level, except the fields listed
 * in `properties`: their order is the output's field order, a real change.
 */
function reverseKeys(value: unknown, keepOrder = false): unknown {
  if (Array.isArray(value)) return value.map((v) => reverseKeys(v));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([k, v]): [string, unknown] => [
    k,
    reverseKeys(v, k === 'properties'),
  ]);
  return Object.fromEntries(keepOrder ? entries : entries.reverse());
}

describe('patternFingerprint', () => {
  it('is stable across whitespace, key order and file syntax', async () => {
    const original = await loadPattern(samplePath('invoice.json'));
    const source = JSON.parse(await readFile(samplePath('invoice.json'), 'utf8'));
    const minified = await files.write('min.json', JSON.stringify(source));
    const reordered = await files.write('reordered.json', JSON.stringify(reverseKeys(source), null, 8));
    const asYaml = await files.write('invoice.yaml', toYaml(source));
    for (const file of [minified, reordered, asYaml]) {
      const pattern = await loadPattern(file);
      expect(pattern.fingerprint, file).toBe(original.fingerprint);
      expect(patternFingerprint(pattern)).toBe(original.fingerprint);
    }
  });

  it('ignores the name, the origin and unknown fields', () => {
    const base = { name: 'A', instructions: 'Extract.', format: 'json', json_schema: { a: 'string' } };
    const fingerprint = parsePattern(base, 'one').fingerprint;
    expect(parsePattern({ ...base, name: 'B', metadata: { x: 1 } }, 'two').fingerprint).toBe(fingerprint);
    expect(parsePattern({ ...base, version: 1 }, 'three').fingerprint).toBe(fingerprint);
  });

  it('changes with instructions, schema, format, version and render hints', () => {
    const base = { name: 'A', instructions: 'Extract.', format: 'csv', csv_schema: 'a,b' };
    const fingerprint = parsePattern(base, 'x').fingerprint;
    const variants = [
      { ...base, instructions: 'Extract all.' },
      { ...base, csv_schema: 'a,c' },
      { ...base, csv_schema: 'b,a' },
      { ...base, csv_schema: 'a,total' },
      { ...base, format: 'json' },
      { ...base, version: '2' },
      { ...base, csv_delimiter: 'semicolon', csv_schema: 'a;b' },
    ];
    const fingerprints = variants.map((v) => parsePattern(v, 'x').fingerprint);
    for (const f of fingerprints) expect(f).not.toBe(fingerprint);
    expect(new Set(fingerprints).size).toBe(variants.length);
  });

  it('hashes a canonical JSON with sorted keys', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: undefined }], a: 'x' })).toBe('{"a":"x","b":[2,{"d":1}]}');
  });
});
