import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { evaluate, sameValue } from '../../src/runs/evaluate.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

async function files(truth: unknown[], results: unknown[]) {
  const dir = await tempDir('visionpipe-eval-');
  const truthFile = path.join(dir, 'truth.jsonl');
  const resultsFile = path.join(dir, 'results.jsonl');
  await writeFile(truthFile, jsonl(truth));
  await writeFile(resultsFile, jsonl(results));
  return { truthFile, resultsFile };
}

const truth = [
  {
    input: 'a.jpg',
    sha256: 'aa',
    truth: { merchant: 'Blue Cafe', total: 8.99, date: '2024-03-22', note: null },
  },
  { input: 'b.jpg', sha256: 'bb', truth: { merchant: 'Corner Deli', total: 7.25, date: null, note: null } },
  { input: 'c.jpg', sha256: 'cc', truth: { merchant: 'Harbour', total: 3.5, date: '2024-05-02', note: 'x' } },
  { input: 'noise.jpg', sha256: 'nn', relevant: false, truth: null },
  { input: 'photo.jpg', sha256: 'pp', relevant: false, truth: null },
];

describe('evaluate', () => {
  it('scores fields, nulls and triage, matching by sha256 then by path', async () => {
    const { truthFile, resultsFile } = await files(truth, [
      // matched by sha256 although the path differs; merchant differs only in case and spacing
      {
        input: 'moved/a.jpg',
        sha256: 'aa',
        status: 'ok',
        output: { merchant: 'BLUE  CAFE', total: 8.99, date: '2024-03-22', note: null },
      },
      // matched by path; a wrong total and a missed date (predicted null where truth is null: agreed)
      {
        input: 'b.jpg',
        sha256: null,
        status: 'ok',
        output: { merchant: 'Corner Deli', total: 7.5, date: null, note: null },
      },
      // a failed image: all its fields count as wrong
      { input: 'c.jpg', sha256: 'cc', status: 'error', output: null },
      { input: 'noise.jpg', sha256: 'nn', status: 'skipped', output: null },
      {
        input: 'photo.jpg',
        sha256: 'pp',
        status: 'ok',
        output: { merchant: null, total: null, date: null, note: null },
      },
      { input: 'unknown.jpg', sha256: 'zz', status: 'ok', output: {} },
    ]);
    const result = await evaluate(truthFile, resultsFile);
    const field = (name: string) => result.fields.find((f) => f.field === name)!;
    expect(field('/merchant')).toMatchObject({ correct: 2, total: 3 });
    expect(field('/total')).toMatchObject({ correct: 1, total: 3 });
    expect(field('/date')).toMatchObject({ correct: 2, total: 3 });
    expect(field('/note')).toMatchObject({ correct: 2, total: 3 });
    expect(result.overall).toMatchObject({ correct: 7, total: 12 });
    expect(result.nulls).toMatchObject({ actual: 3, predicted: 7, agreed: 3, recall: 1 });
    expect(result.triage).toMatchObject({
      irrelevant: 2,
      skipped: 1,
      correct_skips: 1,
      precision: 1,
      recall: 0.5,
    });
    expect(result.records).toMatchObject({
      truth: 5,
      matched: 5,
      failed: 1,
      missing_results: 0,
      unmatched_results: 1,
    });
  });

  it('matches a relative truth path to an absolute result path, so a near-duplicate is scored against its own truth', async () => {
    const { truthFile, resultsFile } = await files(
      [
        { input: 'scans/a.jpg', sha256: 'aa', truth: { merchant: 'Blue Cafe' } },
        { input: 'scans/b.jpg', sha256: 'bb', truth: { merchant: 'Corner Deli' } },
      ],
      [
        { input: path.resolve('scans/a.jpg'), sha256: 'aa', status: 'ok', output: { merchant: 'Blue Cafe' } },
        // A near-duplicate match that borrowed a's answer: its own content, its own truth.
        { input: path.resolve('scans/b.jpg'), sha256: 'bb', status: 'ok', output: { merchant: 'Blue Cafe' } },
      ],
    );
    const report = await evaluate(truthFile, resultsFile);
    expect(report.records.matched).toBe(2);
    expect(report.overall).toMatchObject({ correct: 1, total: 2 });
  });

  it('scores array items by position with a per-column template', async () => {
    const { truthFile, resultsFile } = await files(
      [{ input: 'i.jpg', truth: { items: [{ amount: 1 }, { amount: 2 }] } }],
      [{ input: 'i.jpg', status: 'ok', output: { items: [{ amount: 1 }] } }],
    );
    const result = await evaluate(truthFile, resultsFile);
    expect(result.fields).toEqual([{ field: '/items/*/amount', correct: 1, total: 2, accuracy: 0.5 }]);
  });

  it('compares like a reviewer: text ignoring case/spacing, numbers within half a cent', () => {
    expect(sameValue('Office Supplies', 'office_supplies')).toBe(true);
    expect(sameValue(12.5, 12.504)).toBe(true);
    expect(sameValue(12.5, 12.51)).toBe(false);
    expect(sameValue(12.5, '12.5')).toBe(true);
    expect(sameValue(null, null)).toBe(true);
    expect(sameValue(null, 'x')).toBe(false);
    expect(sameValue('x', null)).toBe(false);
  });

  it('names the file and line of a malformed record', async () => {
    const { truthFile, resultsFile } = await files(truth, [{ input: 'a.jpg', status: 'weird' }]);
    const error = await evaluate(truthFile, resultsFile).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VisionpipeError);
    expect((error as VisionpipeError).message).toMatch(/results\.jsonl:1: "status"/);
  });

  it('runs as a CLI command with a table or JSON', async () => {
    const { truthFile, resultsFile } = await files(truth.slice(0, 1), [
      {
        input: 'a.jpg',
        sha256: 'aa',
        status: 'ok',
        output: { merchant: 'Blue Cafe', total: 8.99, date: null, note: null },
      },
    ]);
    const table = await runCli(['eval', '--truth', truthFile, resultsFile]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/\/date\s+0\.0 %\s+1/);
    expect(table.stdout).toMatch(/overall\s+75\.0 %\s+4/);
    const json = await runCli(['eval', '--truth', truthFile, resultsFile, '--json']);
    expect(JSON.parse(json.stdout).overall.accuracy).toBe(0.75);
    const missing = await runCli(['eval', '--truth', '/nonexistent/truth.jsonl', resultsFile]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/truth.jsonl');
  });
});
