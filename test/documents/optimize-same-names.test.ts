/**
 * `optimize` on two documents of the same name from different folders (`a/x.pdf`,
 * `b/x.pdf`): each document keeps one stem for all its pages (`x.p001.jpg`… and
 * `x-1.p001.jpg`…), so pages of the two never mix, nothing is overwritten, and the progress
 * counts inputs, not pages. Real PDFs written with pdf-lib, the real CLI.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';

describe('optimize: same-named documents', () => {
  it('gives every page of one document the same stem, and counts inputs in the progress', async () => {
    const work = await tempDir('visionpipe-optimize-names-');
    await mkdir(path.join(work, 'a'));
    await mkdir(path.join(work, 'b'));
    await writeFile(
      path.join(work, 'a', 'x.pdf'),
      await makePdf([{ lines: ['Alpha 1'] }, { lines: ['Alpha 2'] }]),
    );
    await writeFile(
      path.join(work, 'b', 'x.pdf'),
      await makePdf([{ lines: ['Beta 1'] }, { lines: ['Beta 2'] }, { lines: ['Beta 3'] }]),
    );
    const result = await runCli(['optimize', 'a/x.pdf', 'b/x.pdf', '--out-dir', 'out', '--json'], {
      cwd: work,
    });
    expect(result.code, result.stderr).toBe(0);
    const { files } = JSON.parse(result.stdout) as {
      files: Array<{ input: string; output: string; page: number }>;
    };
    const stems = new Map<string, Set<string>>();
    for (const file of files) {
      const stem = path.basename(file.output).replace(/\.p\d{3}\.jpg$/, '');
      stems.set(file.input, (stems.get(file.input) ?? new Set()).add(stem));
    }
    // One stem per document, and two different stems.
    expect([...stems.values()].map((s) => s.size)).toEqual([1, 1]);
    expect(new Set([...stems.values()].flatMap((s) => [...s])).size).toBe(2);
    const written = (await readdir(path.join(work, 'out'))).filter((f) => !f.startsWith('.')).sort();
    expect(written).toHaveLength(5);
    expect(result.stderr).not.toMatch(/\b5\/2\b/);
  }, 180_000);
});
