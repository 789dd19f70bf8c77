/**
 * --format-dir never replaces a file visionpipe did not write (issue 13): a user's own
 * `r.csv` in the folder is kept, the output goes to `r-1.csv`, and the run says so in a
 * warning naming --overwrite; with --overwrite the user's file is replaced. The same rule
 * as -o, --failures and --combine (runs/output-guard.ts). Real CLI processes, the local
 * engine, a real receipt rendered as an image.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir, textImage } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');
const MINE = 'my own notes, not a visionpipe output\n';
let work: string;

beforeAll(async () => {
  work = await tempDir('visionpipe-format-guard-');
  await writeFile(
    path.join(work, 'r.png'),
    await textImage([{ text: 'HARBOUR CAFE', bold: true, size: 40 }, '2024-05-02', 'TOTAL        $3.50'], {
      width: 900,
    }),
  );
});

describe('--format-dir beside a file visionpipe did not write', () => {
  it('keeps the file, writes r-1.csv and says so; --overwrite replaces it', async () => {
    const out = path.join(work, 'out');
    await mkdir(out);
    await writeFile(path.join(out, 'r.csv'), MINE);
    const first = await runCli(['run', 'r.png', '-p', RECEIPT, '--format-dir', 'out', '-o', 'a.jsonl'], {
      cwd: work,
    });
    expect(first.code, first.stderr).toBe(0);
    expect(await readFile(path.join(out, 'r.csv'), 'utf8')).toBe(MINE);
    expect((await readdir(out)).sort()).toEqual(['.visionpipe-outputs.jsonl', 'r-1.csv', 'r.csv']);
    expect(first.stderr).toMatch(
      /warning: .*out\/r\.csv exists and visionpipe did not write it: kept, the output went to r-1\.csv instead \(--overwrite replaces it\)/,
    );

    await mkdir(path.join(work, 'out3'));
    await writeFile(path.join(work, 'out3', 'r.csv'), MINE);
    const third = await runCli(
      ['run', 'r.png', '-p', RECEIPT, '--format-dir', 'out3', '-o', 'c.jsonl', '--overwrite'],
      { cwd: work },
    );
    expect(third.code, third.stderr).toBe(0);
    expect(await readFile(path.join(work, 'out3', 'r.csv'), 'utf8')).not.toBe(MINE);
    expect(third.stderr).not.toContain('did not write it');
  }, 120_000);
});
