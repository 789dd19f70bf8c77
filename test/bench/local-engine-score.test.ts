/**
 * bench/local-engine claims images per minute of OCR: a duplicate served from the first
 * copy's result (cache "dedup") was not read and must not count (issue 11 §8).
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Group, ocrCount, ROOT, runGroups } from '../../bench/local-engine-score.js';
import { LocalProvider } from '../../src/providers/local.js';

const provider = new LocalProvider({ workers: 1 });
afterAll(() => provider.close());

describe('bench/local-engine counting', () => {
  it('counts an image and its byte-identical copy as one image read', async () => {
    const file = (name: string) => path.join(ROOT, 'samples/images', name);
    const group: Group = {
      name: 'invoice',
      kind: 'invoice',
      patternFile: path.join(ROOT, 'samples/patterns/invoice.json'),
      items: ['invoice-002.png', 'invoice-004-duplicate.png'].map((name) => ({
        kind: 'file' as const,
        label: file(name),
        path: file(name),
        rel: name,
      })),
      truth: [],
    };
    const { records } = await runGroups([group], provider, undefined, 1);
    const caches = records
      .get('invoice')!
      .map((r) => r.cache)
      .sort();
    expect(caches).toEqual(['dedup', 'miss']);
    expect(ocrCount(records)).toBe(1);
  });
});
