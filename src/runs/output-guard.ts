/**
 * Every file a command writes (`run -o`, `--failures`, `--combine`, `--report`, `--log-file`;
 * `report --out`) is checked here, by one function, before anything is opened for writing:
 *
 * - it may not be the pattern, the routes file, the list file, the config file, the results
 *   file `report` reads, an input named on the command line, or another output of the same
 *   command (symlinks resolved: a link to the pattern is the pattern; hard links compared by
 *   inode). `optimize` refuses the same way. OUTPUT_CONFLICT, exit 2; nothing is truncated.
 * - an existing file inside a folder named as an input (an image of that folder) is refused the
 *   same way, even with `--overwrite`, unless visionpipe wrote it (a results file for `-o`).
 * - an existing file visionpipe did not write (`-o`: its first line is not a record; a log
 *   whose first line is not a log line; a report without visionpipe's generator tag…) is
 *   someone else's: it is only replaced with `--overwrite`.
 */
import type { Stats } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';

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

/** The first 64 KiB of a file (throws the fs error of an unreadable file). */
async function head(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The first line of a file, at most 64 KiB of it (throws the fs error of an unreadable file). */
export async function firstLine(file: string): Promise<string> {
  return (await head(file)).split('\n', 1)[0] ?? '';
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

/** What an output holds: how a file visionpipe wrote there is recognised. */
export type OutputKind = 'results' | 'failures' | 'combine' | 'report' | 'log';

export interface OutputTarget {
  /** The flag as typed, for messages: `-o`, `--failures`. */
  flag: string;
  /** The option's name, for the error's `option`: `out`, `failures`. */
  option: string;
  file: string;
  kind: OutputKind;
}

export interface OutputTargetsCheck {
  /** The files the command writes; undefined ones (flags not given) are skipped. */
  outputs: ReadonlyArray<OutputTarget | undefined>;
  /** Files the command reads, by role: `{pattern: 'p.json', route: …, list: …}`. */
  reads: Record<string, string | undefined>;
  /** Inputs named on the command line (files, folders, globs, URLs: only files are compared). */
  inputs: readonly string[];
  overwrite: boolean;
}

/** `-o`, and `--failures` and `--combine` when given: the outputs `run` and `run --queue` share. */
export function resultOutputs(flags: { out: string; failures?: string; combine?: string }): OutputTarget[] {
  return [
    { flag: '-o', option: 'out', file: flags.out, kind: 'results' },
    ...(flags.failures
      ? [{ flag: '--failures', option: 'failures', file: flags.failures, kind: 'failures' } as const]
      : []),
    ...(flags.combine
      ? [{ flag: '--combine', option: 'combine', file: flags.combine, kind: 'combine' } as const]
      : []),
  ];
}

/** The `<meta name="generator">` every visionpipe report carries: how an earlier report is known. */
export const REPORT_GENERATOR = '<meta name="generator" content="visionpipe">';

/** Whether `head` (the start of an existing, non-empty file) is what visionpipe writes as `kind`. */
function written(kind: OutputKind, file: string, head: string): boolean {
  const line = head.split('\n', 1)[0] ?? '';
  switch (kind) {
    case 'results':
    case 'failures':
      return isResultsLine(line);
    case 'log':
      return isLogLine(line);
    case 'report':
      return head.includes(REPORT_GENERATOR);
    case 'combine':
      return isCombined(path.extname(file).toLowerCase(), head.replace(/^\uFEFF/, ''));
  }
}

/** A pino line of a --log-file: `{"level":30,"time":…,"pid":…}`. */
function isLogLine(line: string): boolean {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    return (
      typeof value?.level === 'number' && typeof value.time === 'number' && typeof value.pid === 'number'
    );
  } catch {
    return false;
  }
}

/** The start of a --combine file (runs/combine.ts), by its extension. */
function isCombined(ext: string, head: string): boolean {
  switch (ext) {
    case '.json':
      return /^\[\s*(?:\]|\{\s*"input":)/.test(head);
    case '.yaml':
    case '.yml':
      return /^(?:- input:|\[\]\n)/.test(head);
    case '.xml':
      return /^<\?xml[^>]*\?>\n<results>/.test(head);
    default:
      return /^"?input"?(?:[^\w\n]|$)/.test(head);
  }
}

function isUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

/**
 * Refuses (OUTPUT_CONFLICT, before anything is written) any output that would destroy a file
 * the command reads, an input, another of its outputs, or a file visionpipe did not write
 * (that one unless `overwrite`). See the top of this file.
 */
export async function checkOutputTargets({
  outputs,
  reads,
  inputs,
  overwrite,
}: OutputTargetsCheck): Promise<void> {
  const given = outputs.filter((output): output is OutputTarget => output !== undefined);
  for (const [index, output] of given.entries()) {
    const target = await real(output.file);
    const conflict = (what: string) =>
      new VisionpipeError(
        'OUTPUT_CONFLICT',
        `${output.flag} ${output.file} is ${what}: writing there would destroy it; choose another file`,
        { option: output.option, input: output.file },
      );
    const info = await stat(target).catch(() => undefined);
    for (const [role, file] of Object.entries(reads)) {
      if (file !== undefined && !isUrl(file) && (await sameFile(file, target, info)))
        throw conflict(`the ${role} file`);
    }
    for (const input of inputs) {
      if (!isUrl(input) && (await sameFile(input, target, info))) throw conflict(`an input (${input})`);
    }
    for (const other of given.slice(0, index)) {
      if (await sameFile(other.file, target, info)) throw conflict(`also ${other.flag}`);
    }
    if (info === undefined) continue;
    if (!info.isFile()) throw conflict('not a regular file');
    if (info.size === 0) continue;
    const ours = written(output.kind, output.file, await head(target));
    // A file inside a folder being read is one of its inputs, whatever --overwrite says.
    for (const input of inputs) {
      if (ours || isUrl(input)) continue;
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
    if (!overwrite && !ours)
      throw new VisionpipeError(
        'OUTPUT_CONFLICT',
        `${output.flag} ${output.file} exists and is not ${WRITTEN[output.kind]}: pass --overwrite to replace it, or choose another file`,
        { option: output.option, input: output.file },
      );
  }
}

const WRITTEN: Record<OutputKind, string> = {
  results: 'a visionpipe results file',
  failures: 'a visionpipe failures file',
  combine: 'a file visionpipe combined',
  report: 'a visionpipe report',
  log: 'a visionpipe log',
};
