/**
 * `run --pages each --format-dir` renders every page's record to its own file
 * (`name.p001.json`, `name.p002.json`, the names `optimize` gives pages): the pages of one
 * document never share one file, where the last page written would replace the others.
 * A real PDF written with pdf-lib, the real CLI and the local engine.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';

describe('--pages each with --format-dir', () => {
  it('writes one file per page, named by page, and a rerun keeps them', async () => {
    const work = await tempDir('visionpipe-pages-render-');
    const pdf = await makePdf([
      { lines: ['INVOICE', 'ACME Supplies Ltd', 'Invoice No: INV-2041', 'Total: 10.00'] },
      { lines: ['INVOICE', 'Beta Traders', 'Invoice No: INV-7730', 'Total: 20.00'] },
    ]);
    await writeFile(path.join(work, 'two.pdf'), pdf);
    const args = [
      'run',
      'two.pdf',
      '-p',
      path.join(ROOT, 'samples/patterns/invoice.json'),
      '--pages',
      'each',
      '--format-dir',
      'out',
      '--cache',
      'off',
      '--no-progress',
    ];
    const result = await runCli(args, { cwd: work });
    expect(result.code, result.stderr).toBe(0);
    const records = (await readFile(path.join(work, 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { page: number; rendered: string | null });
    const byPage = new Map(records.map((r) => [r.page, r.rendered]));
    expect(byPage.get(1)).toBe(path.join('out', 'two.p001.json'));
    expect(byPage.get(2)).toBe(path.join('out', 'two.p002.json'));
    const files = (await readdir(path.join(work, 'out'))).filter((f) => !f.startsWith('.'));
    expect(files.sort()).toEqual(['two.p001.json', 'two.p002.json']);
    // Each file holds its own page's answer, not the last page's.
    const first = await readFile(path.join(work, 'out', 'two.p001.json'), 'utf8');
    const second = await readFile(path.join(work, 'out', 'two.p002.json'), 'utf8');
    expect(first).not.toBe(second);

    const again = await runCli(args, { cwd: work });
    expect(again.code, again.stderr).toBe(0);
    expect((await readdir(path.join(work, 'out'))).filter((f) => !f.startsWith('.')).sort()).toEqual([
      'two.p001.json',
      'two.p002.json',
    ]);
  }, 180_000);
});
