/**
 * The same file named twice (the issue 13 trial: once through its folder, once by name, or
 * the same path twice) is one input: one record, one --combine row, and the summary says
 * how many duplicates of the arguments were dropped.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { ROOT, readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');

describe('visionpipe run with a file named twice', () => {
  it('makes one record and one --combine row per path, and counts the duplicates dropped', async () => {
    const work = await tempDir('visionpipe-dup-args-');
    const inbox = path.join(work, 'inbox');
    await mkdir(inbox);
    await copyFile(path.join(ROOT, 'samples/images/receipt-002.png'), path.join(inbox, 'a.png'));
    const out = path.join(work, 'results.jsonl');
    const combine = path.join(work, 'all.json');
    const args = ['run', 'inbox', 'inbox/a.png', './inbox/a.png', '-p', RECEIPT, '--cache', 'off'];
    const result = await runCli([...args, '--out', out, '--combine', combine, '--json', '--no-progress'], {
      cwd: work,
    });
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Summary;
    expect(summary).toMatchObject({ total: 1, inputs: 1, duplicate_inputs: 2 });
    expect((await readRecords(out)).map((r) => r.input)).toEqual([path.join('inbox', 'a.png')]);
    expect(JSON.parse(await readFile(combine, 'utf8'))).toHaveLength(1);

    const text = await runCli([...args, '--out', path.join(work, 'text.jsonl'), '--no-progress'], {
      cwd: work,
    });
    expect(text.stdout).toMatch(/^1 input: .*2 named twice in the arguments \(duplicates dropped\)/m);
  }, 120_000);
});
