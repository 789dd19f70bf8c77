/**
 * One run at a time on one results file. The same command started twice (a double click, a
 * cron overlap) would otherwise pay for most images twice and interleave two journals in one
 * file. The first run holds `<results>.lock` next to the results file's real path (created
 * exclusively, holding its pid, host and start time): a symlink to the results file, another
 * spelling of its path or another `--state-dir` all name the same lock, so any two runs writing
 * the same file exclude each other. A second run stops with RUN_LOCKED naming the holder. A
 * lock whose process is gone (same host, pid not alive) is stale: it is taken over, with a
 * warning. The lock is removed when the run ends, Ctrl-C included.
 */
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';
import { processAlive } from '../process-alive.js';

export interface RunLock {
  readonly file: string;
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  started: string;
}

/**
 * Where `out` really is: symlinks followed, a dangling one (the results file not written yet)
 * to where writing through it would create the file, a missing file under its real folder.
 */
export function realResultsPath(out: string): string {
  let current = path.resolve(out);
  for (let hops = 0; hops < 40; hops++) {
    try {
      return realpathSync(current);
    } catch {}
    try {
      if (!lstatSync(current).isSymbolicLink()) break;
      current = path.resolve(path.dirname(current), readlinkSync(current));
    } catch {
      break;
    }
  }
  let folder = path.dirname(current);
  try {
    folder = realpathSync(folder);
  } catch {}
  return path.join(folder, path.basename(current));
}

/** The lock of the run writing `out`: `<real path of out>.lock`. */
export function lockPath(out: string): string {
  return `${realResultsPath(out)}.lock`;
}

function readHolder(file: string): Holder | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.started === 'string')
      return value as Holder;
  } catch {}
  return undefined;
}

/** Takes the lock on the results file `out`, or throws RUN_LOCKED naming the run that holds it. */
export function acquireRunLock(out: string, warn: (message: string) => void): RunLock {
  const file = lockPath(out);
  mkdirSync(path.dirname(file), { recursive: true });
  const me: Holder = { pid: process.pid, host: os.hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          if (readHolder(file)?.pid === me.pid) unlinkSync(file);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    const stale = holder === undefined || (holder.host === me.host && !processAlive(holder.pid));
    if (!stale) {
      throw new VisionpipeError(
        'RUN_LOCKED',
        `${out} is being written by another run (pid ${holder.pid} on ${holder.host}, since ${holder.started}); wait for it, or use another -o`,
        { option: 'out' },
      );
    }
    warn(
      `${out}: taking over the lock of a run that is gone (${holder ? `pid ${holder.pid}` : 'unreadable lock'})`,
    );
    try {
      unlinkSync(file);
    } catch {}
  }
  throw new VisionpipeError('RUN_LOCKED', `${out}: could not take the run lock ${file}`, { option: 'out' });
}
