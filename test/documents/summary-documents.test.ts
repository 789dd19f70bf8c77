/**
 * The run summary of documents, through the real CLI on the loopback simulator: a
 * document's original bytes are its file's (not its rendered pages'), counted once in
 * either pages mode, and the headline counts documents and their pages apart from images.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVOICE_PAGES } from '../../samples/scripts/documents.js';
import type { Summary } from '../../src/runs/summary.js';
import { type SimCall, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { documentFolder } from '../support/document-folder.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';

let sim: Simulator;
let folder: string;
let pattern: string;
let fileBytes: number;

beforeAll(async () => {
  sim = await startSimulator({
    answer: (call: SimCall) => ({ title: 'x', total: 1 + (call.pages?.length ?? 0) }),
  });
  ({ folder, pattern, fileBytes } = await documentFolder(
    'visionpipe-doc-summary-',
    'invoice.pdf',
    await makePdf(INVOICE_PAGES),
  ));
});
afterAll(async () => {
  await sim.close();
});

function run(work: string, extra: string[]) {
  return runOpenAiCompatible(folder, {
    pattern,
    baseUrl: sim.baseUrls.openai,
    model: 'gpt-4.1-mini',
    out: path.join(work, 'out.jsonl'),
    cwd: work,
    extra: ['--cache', 'off', '--no-progress', ...extra],
  });
}

describe('the summary of a run with documents', () => {
  it('--pages document: original bytes are the files, the headline says images and documents', async () => {
    const work = await tempDir('visionpipe-doc-summary-work-');
    const result = await run(work, []);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/2 inputs: 1 image and 1 document \(3 pages\) processed in/);
    // A 2 kB vector PDF is smaller than its rendered pages: the honest figure is a growth.
    expect(result.stdout).toMatch(/bytes 52\.3 kB read · .* sent \(from 52\.3 kB original, \+\d+ %\)/);
    expect(result.stdout).not.toMatch(/\(-0 %\)/);
    const records = await readRecords(path.join(work, 'out.jsonl'));
    const pdf = records.find((r) => r.input.endsWith('.pdf'))!;
    expect(pdf.image?.original_bytes).toBe((await stat(path.join(folder, 'invoice.pdf'))).size);
  });

  it('--pages each: the file is counted once however many page records it gave', async () => {
    const work = await tempDir('visionpipe-doc-summary-work-');
    const result = await run(work, ['--pages', 'each', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary).toMatchObject({ total: 4, processed: 4, processed_documents: 3 });
    expect(summary.pages).toEqual({ documents: 1, read: 2, blank: 1, skipped: 0 });
    expect(summary.bytes.original).toBe(fileBytes);
  });
});
