/** The working folder of the Ctrl-C tests: `inputs/` with corpus images, and a one-field JSON pattern. */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunRecord } from '../../src/pipeline/record.js';
import { readRecords, runOpenAiCompatible } from './cli.js';
import { corpus, tempDir } from './images.js';

/** A new temp folder holding `inputs/<name>` for each corpus image named, and `pattern.json`. */
export async function stopWorkFolder(prefix: string, names: readonly string[]): Promise<string> {
  const work = await tempDir(prefix);
  await mkdir(path.join(work, 'inputs'));
  for (const name of names) await copyFile(corpus(name), path.join(work, 'inputs', name));
  await writeFile(
    path.join(work, 'pattern.json'),
    JSON.stringify({ name: 'doc', format: 'json', instructions: 'Read.', json_schema: { total: 'number' } }),
  );
  return work;
}

/** Resolves true once `check` holds, polling every 100 ms; false after 600 tries (bounded, never a timing). */
export async function until(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * `visionpipe run inputs --pattern pattern.json --cache off --no-progress …extra` in a
 * folder made by `stopWorkFolder`, against the compatible server at `baseUrl`, writing
 * `out`: the records it wrote, in order. `timeoutMs` bounds the run (runCli's default).
 */
export async function runInFolder(
  work: string,
  baseUrl: string,
  out: string,
  extra: readonly string[] = [],
  timeoutMs?: number,
): Promise<RunRecord[]> {
  await runOpenAiCompatible('inputs', {
    pattern: 'pattern.json',
    baseUrl,
    out,
    extra: ['--cache', 'off', '--no-progress', ...extra],
    cwd: work,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  return readRecords(out);
}
