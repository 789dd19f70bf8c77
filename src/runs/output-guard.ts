/**
 * The results file (`run -o FILE`) is checked before anything is opened for writing:
 *
 * - it may not be the pattern, the routes file, the list file or an input named on the
 *   command line (symlinks resolved: a link to the pattern is the pattern; hard links
 *   compared by inode). `optimize`
 *   refuses the same way. OUTPUT_CONFLICT, exit 2; nothing is truncated.
 * - an existing file inside a folder named as an input (an image of that folder) is refused the
 *   same way, even with `--overwrite`, unless it is a visionpipe results file.
 * - an existing file that is not a visionpipe results file (its first line is not a record)
 *   is someone else's: it is only replaced with `--overwrite`.
 */
import type { Stats } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';

export interface ResultsTargetCheck {
  /** The results file (`-o`). */
  out: string;
  /** Files the command reads, by role: `{pattern: 'p.json', route: …, list: …}`. */
  reads: Record<string, string | undefined>;
  /** Inputs named on the command line (files, folders, globs, URLs: only files are compared). */
  inputs: readonly string[];
  overwrite: boolean;
}

async function real(file: string): Promise<string> {
  return realpath(file).catch(() => path.resolve(file));
}

/**
 * Whether `file` is the same file as `target` (already resolved, `targetInfo` its stat):
 * the same path after symlinks, or the same inode on the same device — a hard link to an
 * input is that input, and writing through it would truncate the input.
 */
async function sameFile(file: string, target: string, targetInfo: Stats | undefined): Promise<boolean> {
  if ((await real(file)) === target) return true;
  if (targetInfo === undefined) return false;
  const info = await stat(file).catch(() => undefined);
  return info?.isFile() === true && info.dev === targetInfo.dev && info.ino === targetInfo.ino;
}

/** The first line of a file, at most 64 KiB of it (throws the fs error of an unreadable file). */
export async function firstLine(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const end = text.indexOf('\n');
    return end === -1 ? text : text.slice(0, end);
  } finally {
    await handle.close();
  }
}

/** Whether a line is a results record (what ResultsWriter writes). */
export function isResultsLine(line: string): boolean {
  try {
    const value = JSON.parse(line) as unknown;
    return (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof (value as Record<string, unknown>).input === 'string' &&
      typeof (value as Record<string, unknown>).status === 'string'
    );
  } catch {
    return false;
  }
}

export async function checkResultsTarget({
  out,
  reads,
  inputs,
  overwrite,
}: ResultsTargetCheck): Promise<void> {
  const target = await real(out);
  const conflict = (what: string) =>
    new VisionpipeError(
      'OUTPUT_CONFLICT',
      `-o ${out} is ${what}: writing results there would destroy it; choose another results file`,
      { option: 'out' },
    );
  const info = await stat(target).catch(() => undefined);
  for (const [role, file] of Object.entries(reads)) {
    if (file !== undefined && (await sameFile(file, target, info))) throw conflict(`the ${role} file`);
  }
  for (const input of inputs) {
    if (/^https?:\/\//i.test(input)) continue;
    if (await sameFile(input, target, info)) throw conflict(`an input (${input})`);
  }
  if (info === undefined) return;
  if (!info.isFile()) throw conflict('not a regular file');
  if (info.size === 0) return;
  const results = isResultsLine(await firstLine(target));
  // A file inside a folder being read is one of its inputs, whatever --overwrite says.
  for (const input of inputs) {
    if (results || /^https?:\/\//i.test(input)) continue;
    const folder = await real(input);
    const inside = path.relative(folder, target);
    if (
      (await stat(folder).catch(() => undefined))?.isDirectory() === true &&
      inside !== '' &&
      !inside.startsWith('..') &&
      !path.isAbsolute(inside)
    )
      throw conflict(`a file inside the input folder ${input} (an input)`);
  }
  if (overwrite) return;
  if (!results)
    throw new VisionpipeError(
      'OUTPUT_CONFLICT',
      `-o ${out} exists and is not a visionpipe results file: pass --overwrite to replace it, or choose another file`,
      { option: 'out' },
    );
}
