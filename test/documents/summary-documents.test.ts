/**
 * The run summary of documents, through the real CLI on the loopback simulator: a
 * document's original bytes are its file's (not its rendered pages'), counted once in
 * either pages mode, and the headline counts documents and their pages apart from images.
 */
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVOICE_PAGES } from '../../samples/scripts/documents.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { Summary } from '../../src/runs/summary.js';
import { type SimCall, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { corpus, tempDir } from '../support/images.js';

let sim: Simulator;
let folder: string;
let pattern: string;
let fileBytes: number;

beforeAll(async () => {
  sim = await startSimulator({
    answer: (call: SimCall) => ({ title: 'x', total: 1 + (call.pages?.length ?? 0) }),
  });
  folder = await tempDir('visionpipe-doc-summary-');
  await copyFile(corpus('invoice1.jpg'), path.join(folder, 'invoice.jpg'));
  await writeFile(path.join(folder, 'invoice.pdf'), await makePdf(INVOICE_PAGES));
  fileBytes =
    (await stat(path.join(folder, 'invoice.jpg'))).size + (await stat(path.join(folder, 'invoice.pdf'))).size;
  pattern = `${folder}-pattern.json`;
  await writeFile(
    pattern,
    JSON.stringify({
      name: 'doc',
      format: 'json',
      instructions: 'Read it.',
      json_schema: { title: 'string', total: 'number' },
    }),
  );
});
afterAll(async () => {
  await sim.close();
});

function run(work: string, extra: string[]) {
  return runCli(
    [
      'run',
      folder,
      '-p',
      pattern,
      '--provider',
      'openai',
      '--model',
      'gpt-4.1-mini',
      '--base-url',
      sim.baseUrls.openai,
      '--cache',
      'off',
      '--no-progress',
      '--out',
      path.join(work, 'out.jsonl'),
      ...extra,
    ],
    { cwd: work, env: { OPENAI_API_KEY: 'sk-sim' } },
  );
}

describe('the summary of a run with documents', () => {
  it('--pages document: original bytes are the files, the headline says images and documents', async () => {
    const work = await tempDir('visionpipe-doc-summary-work-');
    const result = await run(work, []);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/2 inputs: 1 image and 1 document \(3 pages\) processed in/);
    // A 2 kB vector PDF is smaller than its rendered pages: the honest figure is a growth.
    expect(result.stdout).toMatch(/bytes 52\.3 kB original → .* sent \(\+\d+ %\)/);
    expect(result.stdout).not.toMatch(/\(-0 %\)/);
    const records = (await readFile(path.join(work, 'out.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RunRecord);
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
