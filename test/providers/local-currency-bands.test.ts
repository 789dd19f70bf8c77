/**
 * The currency printed in light text on a coloured band (issue 11 trial): invoice5's only
 * currency is its "Total (USD)" table header, white on green, which tesseract's reading of
 * the page loses (it binarises the page as a whole). The band is read apart, negated
 * (light-bands.ts), and its text is evidence for the currency when the page names none.
 * Real tesseract on the five corpus invoices: invoice5 gets USD, the others keep their
 * labelled currency (bench/corpus/truth.jsonl) and none gets a false one.
 */

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPattern } from '../../src/patterns/index.js';
import type { Pattern } from '../../src/patterns/types.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { lightTextBands } from '../../src/providers/local/light-bands.js';
import { LocalProvider } from '../../src/providers/local.js';
import { ROOT } from '../support/cli.js';
import { corpus } from '../support/images.js';

/** The currency printed on each corpus invoice (bench/corpus/truth.jsonl). */
const TRUTH: Record<string, string | null> = {
  'invoice1.jpg': 'USD',
  'invoice2.jpg': 'AUD',
  'invoice3.jpg': 'USD',
  'invoice4.jpg': 'INR',
  'invoice5.jpg': 'USD',
};

let provider: LocalProvider;
let pattern: Pattern;
const currencies = new Map<string, unknown>();

beforeAll(async () => {
  provider = new LocalProvider({ workers: 1 });
  pattern = await loadPattern(path.join(ROOT, 'samples/patterns/invoice.json'));
  for (const name of Object.keys(TRUTH)) {
    const pipeline = await createPipeline({ pattern, provider, cache: { spec: 'off' } });
    try {
      const record = await pipeline.process(corpus(name));
      currencies.set(name, (record.output as { currency?: unknown } | null)?.currency ?? null);
    } finally {
      await pipeline.close();
    }
  }
}, 300_000);

afterAll(async () => {
  await provider.close();
});

describe('a currency in light text on a coloured band', () => {
  it('invoice5: "Total (USD)" white on green gives currency USD', () => {
    expect(currencies.get('invoice5.jpg')).toBe('USD');
  });

  it('the other invoices keep what they had, none a false currency', () => {
    // invoice3's "$" is read below the currency evidence threshold: null before and after.
    expect(Object.fromEntries(currencies)).toEqual({ ...TRUTH, 'invoice3.jpg': null });
    for (const [name, currency] of currencies) expect([TRUTH[name], null], name).toContain(currency);
  });

  it('the band is found on invoice5 (its table header), none on a plain white scan', async () => {
    const bands = await lightTextBands(await readFile(corpus('invoice5.jpg')));
    expect(bands.length).toBeGreaterThan(0);
    expect(await lightTextBands(await readFile(corpus('invoice1.jpg')))).toEqual([]);
  });
});
