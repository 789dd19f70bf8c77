/**
 * `run --pages each --cache off`, resumed after the PDF changed (issue 17: "re-running
 * after adding a page to a PDF pays only for the new page in each mode", resume without a
 * cache too): pages are kept by their rendered content, not by the file's sha256. Real CLI
 * processes, PDFs made by pdf-lib, the loopback simulator counting the calls it answers,
 * direct calls and the OpenAI Batch API.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { makePdf, type PdfPageSpec } from '../support/documents.js';
import { tempDir } from '../support/images.js';
import { writeJsonPattern } from '../support/patterns.js';

let sim: Simulator;
/** Calls the simulator answered (one per page in each mode). */
let calls = 0;

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 0, maxMs: 5 },
    answer: () => {
      calls++;
      return { title: 'x', total: 1 };
    },
  });
});
afterAll(async () => {
  await sim?.close();
});

const page = (name: string): PdfPageSpec => ({
  lines: [`Page ${name}`, `Invoice ${name}-100`, 'Total 42.00'],
});

async function setup() {
  const work = await tempDir('visionpipe-resume-changed-');
  const pattern = await writeJsonPattern(path.join(work, 'pattern.json'), {
    name: 'doc',
    instructions: 'Read the page.',
    schema: { title: 'string', total: 'number' },
  });
  const pdf = path.join(work, 'report.pdf');
  const run = (extra: string[] = []) =>
    runOpenAiCompatible(pdf, {
      pattern,
      baseUrl: sim.baseUrls.openai,
      out: path.join(work, 'out.jsonl'),
      cwd: work,
      extra: ['--pages', 'each', '--cache', 'off', '--no-progress', '--json', ...extra],
    });
  return { work, pdf, run, out: path.join(work, 'out.jsonl') };
}

describe.each([
  ['direct calls', []],
  ['--batch-api', ['--batch-api', '--batch-poll', '50ms']],
])('--pages each, --cache off, resumed after the PDF changed (%s)', (_name, extra) => {
  it('pays only for the page added (at the end, then in the middle); the other pages are kept', async () => {
    const { pdf, run, out } = await setup();
    const paid = async (pages: PdfPageSpec[]) => {
      await writeFile(pdf, await makePdf(pages));
      const before = calls;
      const result = await run(extra);
      expect(result.code, result.stderr).toBe(0);
      return { calls: calls - before, summary: JSON.parse(result.stdout) as Summary };
    };

    const first = await paid([page('A'), page('B')]);
    expect(first.calls).toBe(2);

    // A page added at the end: only it is read.
    const added = await paid([page('A'), page('B'), page('C')]);
    expect(added.calls).toBe(1);
    const records = await readRecords(out);
    expect(records.map((r) => r.page).sort()).toEqual([1, 2, 3]);
    expect(records.every((r) => r.status === 'ok' && r.pages === 3)).toBe(true);
    // The kept pages cost nothing in this run: the summary's cost is the new page's.
    const newPage = records.find((r) => r.page === 3)!;
    expect(added.summary.cost_usd).toBeCloseTo(newPage.cost_usd ?? Number.NaN, 6);
    expect(records.filter((r) => r.page !== 3).every((r) => r.cost_usd === 0 && r.attempts === 0)).toBe(true);

    // A page inserted in the middle: the pages after it moved, and are still not paid again.
    const inserted = await paid([page('A'), page('X'), page('B'), page('C')]);
    expect(inserted.calls).toBe(1);
    const now = await readRecords(out);
    expect(now.map((r) => r.page).sort()).toEqual([1, 2, 3, 4]);
    expect(now.find((r) => r.page === 2)?.attempts).toBe(1);

    // Unchanged: nothing read, every page kept as it is.
    const again = await paid([page('A'), page('X'), page('B'), page('C')]);
    expect(again.calls).toBe(0);
    expect(again.summary).toMatchObject({ resumed: 4, processed: 0 });
  }, 180_000);
});
