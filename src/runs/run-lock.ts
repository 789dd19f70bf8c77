/**
 * One run at a time on one results file. The same command started twice (a double click, a
 * cron overlap) would otherwise pay for most images twice and interleave two journals in one
 * file. The first run holds `<state-dir>/runs/<id>.lock` (created exclusively, holding its
 * pid, host and start time); a second run on the same results file stops with RUN_LOCKED
 * naming the holder. A lock whose process is gone (same host, pid not alive) is stale: it is
 * taken over, with a warning. The lock is removed when the run ends, Ctrl-C included.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';

export interface RunLock {
  readonly file: string;
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  started: string;
}

export function lockPath(stateDir: string, out: string): string {
  const id = createHash('sha256').update(path.resolve(out)).digest('hex').slice(0, 16);
  return path.join(stateDir, 'runs', `${id}.lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.started === 'string')
      return value as Holder;
  } catch {}
  return undefined;
}

/** Takes the lock on `out`'s run state, or throws RUN_LOCKED naming the run that holds it. */
export function acquireRunLock(stateDir: string, out: string, warn: (message: string) => void): RunLock {
  const file = lockPath(stateDir, out);
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
    const stale = holder === undefined || (holder.host === me.host && !alive(holder.pid));
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
