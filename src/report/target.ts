/**
 * Checks where an HTML report will be written (`run --report FILE`, `report --out FILE`)
 * before any work starts, so a run does not pay for its images and then fail at the end.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';

/** The nearest existing ancestor of `dir` (itself when it exists), or its stat failure. */
async function nearestExisting(dir: string): Promise<{ dir: string; isDirectory: boolean }> {
  let current = dir;
  for (;;) {
    try {
      return { dir: current, isDirectory: (await stat(current)).isDirectory() };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) throw error;
      current = parent;
    }
  }
}

/**
 * Throws INVALID_OPTION naming `flag` and `file` when the report could not be written there:
 * the path is a folder, a path component is a file, or the folder is not writable.
 * Creates nothing (missing folders are created when the report is written).
 */
export async function checkReportTarget(file: string, flag: string): Promise<void> {
  const target = path.resolve(file);
  const fail = (why: string, cause?: unknown): never => {
    throw new VisionpipeError('INVALID_OPTION', `${flag} ${file}: cannot write the report there (${why})`, {
      option: flag.replace(/^-+/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()),
      input: file,
      ...(cause ? { cause } : {}),
    });
  };
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) fail('it is a folder');
  let parent: { dir: string; isDirectory: boolean };
  try {
    parent = await nearestExisting(path.dirname(target));
  } catch (error) {
    return fail((error as Error).message, error);
  }
  if (!parent.isDirectory) fail(`${parent.dir} is a file, not a folder`);
  try {
    await access(existing ? target : parent.dir, constants.W_OK | (existing ? 0 : constants.X_OK));
  } catch (error) {
    fail(`${existing ? target : parent.dir} is not writable`, error);
  }
}
