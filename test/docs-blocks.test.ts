/**
 * Every code block of README.md and docs/*.md is run (or loaded) by a test, or says in the
 * markdown why it is not: `<!-- not-run: reason -->` on the line just above its fence
 * (an output sample, a command synopsis). A new block fails here until one of the two.
 *
 * COVERED names, per doc, the blocks each docs test takes (by language and heading, the
 * way that test selects them) and the test file; that file must exist and read the doc.
 * An entry that matches no block fails too, so the list cannot outlive what it covers.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';
import { type DocBlock, docBlocks } from './support/markdown.js';

interface Covered {
  doc: string;
  lang: string;
  /** A `##` or `###` heading the blocks are under (all blocks of the language if absent). */
  under?: string;
  /** The test that runs them. */
  by: string;
}

const COVERED: Covered[] = [
  { doc: 'README.md', lang: 'sh', under: 'Quick start', by: 'test/readme.test.ts' },
  {
    doc: 'README.md',
    lang: 'json',
    under: 'The record (one JSONL line per input)',
    by: 'test/readme.test.ts',
  },
  { doc: 'README.md', lang: 'ts', under: 'Library', by: 'test/readme.test.ts' },
  { doc: 'README.md', lang: 'yaml', under: 'Configuration', by: 'test/readme.test.ts' },
  { doc: 'README.md', lang: 'sh', under: 'Development', by: 'test/readme.test.ts' },
  { doc: 'README.md', lang: 'sh', under: 'Your own project', by: 'test/cli/readme-project.test.ts' },
  { doc: 'README.md', lang: 'sh', under: 'Service', by: 'test/service/docs.test.ts' },
  { doc: 'docs/documents.md', lang: 'sh', by: 'test/documents/docs.test.ts' },
  { doc: 'docs/documents.md', lang: 'ts', by: 'test/documents/docs.test.ts' },
  {
    doc: 'docs/flow-control.md',
    lang: 'sh',
    under: 'Adaptive flow control (no limit given)',
    by: 'test/flow/flow-docs.test.ts',
  },
  { doc: 'docs/flow-control.md', lang: 'ts', by: 'test/flow/flow-docs.test.ts' },
  { doc: 'docs/observability.md', lang: 'sh', by: 'test/metrics/observability-docs.test.ts' },
  { doc: 'docs/providers.md', lang: 'ts', by: 'test/providers/providers-docs.test.ts' },
  {
    doc: 'docs/providers.md',
    lang: 'json',
    under: 'Price table',
    by: 'test/providers/providers-docs.test.ts',
  },
  { doc: 'docs/security.md', lang: 'sh', by: 'test/security/docs.test.ts' },
  { doc: 'docs/service.md', lang: 'sh', by: 'test/service/docs.test.ts' },
  { doc: 'docs/service.md', lang: 'yaml', by: 'test/service/docs.test.ts' },
  { doc: 'docs/cost.md', lang: 'yaml', by: 'test/providers/providers-docs.test.ts' },
  {
    doc: 'docs/cost.md',
    lang: 'sh',
    under: 'Triage and escalation in the estimate',
    by: 'test/cli/estimate-cascade.test.ts',
  },
];

/** Languages that are prose, not code: nothing to run. Anything else must be covered. */
const NOT_CODE = new Set(['text']);

const DOCS = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const matches = (entry: Covered, doc: string, block: DocBlock) =>
  entry.doc === doc && entry.lang === block.lang && (!entry.under || block.headings.includes(entry.under));

describe('every code block of README.md and docs/*.md', () => {
  const all = DOCS.flatMap((doc) =>
    docBlocks(readFileSync(path.join(ROOT, doc), 'utf8')).map((block) => ({ doc, block })),
  );

  it('is run by a test or marked <!-- not-run: reason -->', () => {
    expect(all.length).toBeGreaterThan(20);
    const uncovered = all
      .filter(({ block }) => !NOT_CODE.has(block.lang) && block.notRun === undefined)
      .filter(({ doc, block }) => !COVERED.some((entry) => matches(entry, doc, block)))
      .map(
        ({ doc, block }) =>
          `${doc}:${block.line} \`\`\`${block.lang || '(no language)'} ${block.code.slice(0, 50)}`,
      );
    expect(uncovered).toEqual([]);
  });

  it('says why when it is not run, and a run block is not also marked not-run', () => {
    const marked = all.filter(({ block }) => block.notRun !== undefined);
    expect(
      marked.filter(({ block }) => block.notRun!.length < 4).map(({ doc, block }) => `${doc}:${block.line}`),
    ).toEqual([]);
    expect(
      marked
        .filter(({ doc, block }) => COVERED.some((entry) => matches(entry, doc, block)))
        .map(({ doc, block }) => `${doc}:${block.line}`),
    ).toEqual([]);
  });

  it.each(COVERED.map((entry) => [`${entry.doc} ${entry.lang} ${entry.under ?? ''}`, entry] as const))(
    'covered: %s matches a block, and its test exists and reads the doc',
    (_name, entry) => {
      expect(all.some(({ doc, block }) => matches(entry, doc, block))).toBe(true);
      const test = path.join(ROOT, entry.by);
      expect(existsSync(test), entry.by).toBe(true);
      expect(readFileSync(test, 'utf8'), entry.by).toContain(entry.doc.replace(/^docs\//, ''));
    },
  );
});
