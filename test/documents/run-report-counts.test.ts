/**
 * What a trial of issue 17 found in the counts of `run` and `report` with documents, through
 * the real CLI on the shipped 2-page invoice and a corpus photo (the smallest: what it says
 * does not matter here, only that it is one image), answered by the simulator (what is read
 * is not the subject: the local engine's OCR of 4 runs cost ~20 s of CPU):
 * - the run headline counts inputs given (a document is one input, in either --pages mode),
 *   not page records;
 * - `report` counts documents apart from images as the run summary does;
 * - pages outside --page-range are skipped pages in both --pages modes, in the run summary
 *   and in `report`.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogEvent, logEvents } from '../../src/metrics/log-lines.js';
import type { PageTotals } from '../../src/runs/page-tally.js';
import type { Summary } from '../../src/runs/summary.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { openAiFlags, ROOT, runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import { SAMPLE_INVOICE_ANSWER } from '../support/simulator-fixtures.js';

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');
const PDF = path.join(ROOT, 'samples/documents/invoice-2-pages.pdf');

let work: string;
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ answer: () => SAMPLE_INVOICE_ANSWER });
  work = await tempDir('visionpipe-run-report-counts-');
  await copyFile(PDF, path.join(work, 'invoice.pdf'));
  await copyFile(corpus('car-plate3.jpg'), path.join(work, 'photo.jpg'));
});

afterAll(async () => {
  await sim?.close();
});

/** `run photo.jpg invoice.pdf` against the simulator into `out`, plus `extra` flags. */
function run(out: string, extra: string[]) {
  return runCli(
    [
      'run',
      'photo.jpg',
      'invoice.pdf',
      '-p',
      PATTERN,
      '--cache',
      'off',
      '--out',
      out,
      '--no-progress',
      ...openAiFlags(sim.baseUrls.openai),
      ...extra,
    ],
    { cwd: work, env: { OPENAI_API_KEY: 'sk-test-counts' } },
  );
}

interface ReportJson {
  processed: number;
  processed_documents: number;
  throughput: { images: number; pages: number; documents: number };
  pages?: PageTotals;
}

async function report(results: string): Promise<{ json: ReportJson; line: string }> {
  const html = `${results}.html`;
  const json = await runCli(['report', results, '--out', html, '--json', '--overwrite'], { cwd: work });
  expect(json.code, json.stderr).toBe(0);
  const text = await runCli(['report', results, '--out', html, '--overwrite'], { cwd: work });
  expect(text.code, text.stderr).toBe(0);
  return { json: JSON.parse(json.stdout) as ReportJson, line: text.stdout };
}

describe('run and report count documents as inputs, in either --pages mode', () => {
  it.each([['document'], ['each']])(
    '--pages %s: "2 inputs", and report names 1 image and 1 document (3 pages, one blank)',
    async (mode) => {
      // One run gives both summaries: the text on stdout, and the same summary as data in
      // its log's run.end line (what --json prints, without the failures list).
      const out = `out-${mode}.jsonl`;
      const log = path.join(work, `run-${mode}.log`);
      const text = await run(out, ['--pages', mode, '--log-file', log]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/\n2 inputs: 1 image and 1 document \(\d pages\) processed in/);
      const ends: LogEvent[] = [];
      for await (const event of logEvents(log, ['run.end'])) ends.push(event);
      expect(ends).toHaveLength(1);
      const summary = ends[0] as unknown as Summary;
      expect(summary).toMatchObject({ inputs: 2, total: mode === 'each' ? 4 : 2 });

      const { json: figures, line } = await report(out);
      // The run summary's definitions: documents once in `throughput`, records in processed_documents.
      expect(figures.throughput).toEqual(expect.objectContaining({ documents: 1 }));
      expect(figures.throughput.pages).toBe(summary.throughput.pages);
      expect(figures.processed_documents).toBe(summary.processed_documents);
      if (mode === 'document') expect(figures.processed_documents).toBe(1);
      expect(line).toMatch(
        new RegExp(
          `: \\d+ records, 1 image and 1 document \\(${summary.throughput.pages} pages\\) processed \\(`,
        ),
      );
    },
    240_000,
  );
});

describe('pages outside --page-range are skipped pages in both --pages modes', () => {
  it('the run summary and report agree: 1 read, 2 skipped (pages 2-3)', async () => {
    const totals: PageTotals[] = [];
    for (const mode of ['document', 'each']) {
      const out = `range-${mode}.jsonl`;
      const result = await run(out, ['--pages', mode, '--page-range', '1', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as Summary;
      expect(summary.inputs).toBe(2);
      totals.push(summary.pages!, (await report(out)).json.pages!);
    }
    for (const t of totals) expect(t).toEqual({ documents: 1, read: 1, blank: 0, skipped: 2 });
  }, 240_000);
});
