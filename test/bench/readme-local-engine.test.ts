/**
 * The README's local-engine accuracy (issue 11 "Done when", §8): the real-corpus and the
 * synthetic figures printed there are the ones in the committed bench results they name,
 * from one run each of committed code (a clean tree), so editing a number or rerunning the
 * bench without updating the README fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
const results = (file: string) =>
  JSON.parse(readFileSync(path.join(ROOT, 'bench/results', file), 'utf8')) as Record<string, unknown>;

/** The README paragraph on the local engine, its line breaks as spaces. */
const paragraph = (README.split('\n\n').find((p) => p.startsWith('**Local engine**')) ?? '').replace(
  /\s+/g,
  ' ',
);

describe('README: the local engine on real documents beside the synthetic samples', () => {
  it('quotes bench:local-engine as it is in bench/results/local-engine.json', () => {
    expect(paragraph).toContain('`bench/results/local-engine.json`');
    const json = results('local-engine.json') as {
      commit: string;
      accuracy_by_engine: Array<{
        engine: string;
        corpus: { correct: number; total: number; accuracy: number };
        synthetic: { correct: number; total: number; accuracy: number };
      }>;
    };
    const tesseract = json.accuracy_by_engine.find((e) => e.engine === 'tesseract')!;
    expect(paragraph).toContain(json.commit.slice(0, 7));
    expect(paragraph).toContain(
      `**${pct(tesseract.corpus.accuracy)}** (${tesseract.corpus.correct} of ${tesseract.corpus.total} fields`,
    );
    expect(paragraph).toContain(
      `**${pct(tesseract.synthetic.accuracy)}** (${tesseract.synthetic.correct} of ${tesseract.synthetic.total}`,
    );
  });

  it('quotes bench/field-precision.ts on the real corpus as its JSON has it, from a clean tree', () => {
    const named = /`bench\/results\/(field-precision-[\w-]+\.json)`/.exec(paragraph);
    expect(named, 'the paragraph names a field-precision result').not.toBeNull();
    const json = results(named![1]!) as {
      commit: string;
      dirty: boolean;
      overall: {
        labelled_values: number;
        values_given: number;
        right: number;
        precision: number;
        recall: number;
        garbage_ok: number;
      };
    };
    expect(json.dirty).toBe(false);
    const o = json.overall;
    expect(paragraph).toContain(json.commit.slice(0, 7));
    expect(paragraph).toContain(
      `**${pct(o.precision)}** of the values it gives are right (${o.right} of ${o.values_given})`,
    );
    expect(paragraph).toContain(`recall ${pct(o.recall)} of ${o.labelled_values} labelled fields`);
    expect(paragraph).toContain(`${o.garbage_ok} wrong values in records called \`ok\``);
    expect(paragraph).toMatch(/real (scans and photos|corpus)/);
    expect(paragraph).toContain('synthetic');
  });
});
