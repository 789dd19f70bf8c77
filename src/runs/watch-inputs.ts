/**
 * The inputs of `run --watch DIR`: every file already in DIR, then each file that is added
 * or changed, as paths, until `stop` aborts. A file is handed out only once its size has
 * stayed the same for `stableMs` (a copy or upload still being written is not read half
 * way), and not again while its size and modification time are unchanged (a repeated
 * event) nor while its bytes are (a `touch`, an editor saving without change: the same
 * bytes are not a new input, so the summary counts one record for them). Content is deduplicated further down: the results journal
 * reuses the record of a path whose bytes did not change, the cache the result of the same
 * bytes under another name, so an unchanged image is never paid twice.
 *
 * chokidar, not fs.watch: fs.watch reports rename/atomic-save sequences and partial writes
 * differently per platform, gives no file sizes, and its recursive mode on Linux is recent;
 * chokidar (maintained, one small dependency) normalises the events and implements the
 * wait-for-stable-size (`awaitWriteFinish`) this needs.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { watch } from 'chokidar';
import { VisionpipeError } from '../errors.js';

export interface WatchOptions {
  /** Ends the stream (the watcher is closed): the first Ctrl-C or SIGTERM. */
  stop: AbortSignal;
  /** Milliseconds a file's size must stay unchanged before it is handed out. */
  stableMs: number;
  /** Absolute paths whose subtrees are never watched (results, state, format folder). */
  exclude?: readonly string[];
  /** Told once the files already in DIR are known (how many). */
  onReady?: (existing: number) => void;
  /**
   * Told when `stop` ends the watch while files it found were never handed out: how many
   * (still being scanned, or not yet stable for `stableMs`), and whether the first scan of
   * DIR was still under way (`onReady` not yet told); `found` is every file of DIR it knows,
   * handed out or not (one handed out as the stop came may never have been started).
   */
  onStopped?: (stopped: { notHandedOut: number; found: number; scanning: boolean }) => void;
  /** Told of a watcher error (a folder that became unreadable); the watch goes on. */
  onError?: (message: string) => void;
}

/** Throws NOT_FOUND when `dir` does not exist, INVALID_OPTION when it is not a folder. */
export async function checkWatchDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new VisionpipeError('NOT_FOUND', `--watch ${dir}: no such directory`, { input: dir });
  if (!info.isDirectory())
    throw new VisionpipeError('INVALID_OPTION', `--watch ${dir}: not a directory`, { option: 'watch' });
}

/** Paths (absolute) of the files in `dir`, then of each new or changed one, until `stop`. */
export async function* watchInputs(dir: string, options: WatchOptions): AsyncGenerator<string> {
  const root = path.resolve(dir);
  await checkWatchDir(root);
  if (options.stop.aborted) return;
  const exclude = (options.exclude ?? []).map((p) => path.resolve(p));
  const ignored = (file: string) => {
    if (exclude.some((e) => file === e || file.startsWith(`${e}${path.sep}`))) return true;
    const rel = path.relative(root, file);
    return rel !== '' && rel.split(path.sep).some((part) => part.startsWith('.'));
  };
  const queue: string[] = [];
  const handedOut = new Set<string>();
  let ready = false;
  let taking = false;
  /** Per file: its size and mtime when last handed out, and a digest of its bytes then. */
  const lastSeen = new Map<string, { key: string; digest: string | undefined }>();
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const consider = async (file: string, size: number | undefined, mtimeMs: number | undefined) => {
    const key = `${size}:${mtimeMs}`;
    const seen = lastSeen.get(file);
    if (size !== undefined && seen?.key === key) return;
    // Hashed only when the size is unchanged: only then can the bytes be the same.
    const sameSize = seen !== undefined && seen.key.split(':')[0] === String(size);
    const digest = seen === undefined || sameSize ? await digestOf(file) : undefined;
    lastSeen.set(file, { key, digest });
    if (sameSize && digest !== undefined && digest === seen.digest) return;
    queue.push(file);
    notify();
  };
  // One event at a time, in the order they came: a file's hashing never reorders the queue.
  let considered = Promise.resolve();
  const offer = (file: string, size: number | undefined, mtimeMs: number | undefined) => {
    considered = considered.then(() => consider(file, size, mtimeMs));
  };
  const watcher = watch(root, {
    ignored,
    alwaysStat: true,
    awaitWriteFinish: { stabilityThreshold: options.stableMs, pollInterval: Math.min(100, options.stableMs) },
  });
  // chokidar waits for a stable size (awaitWriteFinish) only after its first scan: a file
  // already there that changed within stableMs is held until it has been still that long
  // (its mtime), then looked at again, so a copy under way at the start is not read half way.
  const holds = new Set<NodeJS.Timeout>();
  const hold = (file: string, size: number | undefined, mtimeMs: number | undefined) => {
    const left = mtimeMs === undefined ? 0 : mtimeMs + options.stableMs - Date.now();
    if (left <= 0) return offer(file, size, mtimeMs);
    const timer = setTimeout(() => {
      holds.delete(timer);
      void stat(file).then(
        (info) => hold(file, info.size, info.mtimeMs),
        () => undefined,
      );
    }, left);
    holds.add(timer);
  };
  watcher.on('add', (file, stats) =>
    ready ? offer(file, stats?.size, stats?.mtimeMs) : hold(file, stats?.size, stats?.mtimeMs),
  );
  watcher.on('change', (file, stats) => offer(file, stats?.size, stats?.mtimeMs));
  watcher.on('unlink', (file) => lastSeen.delete(file));
  watcher.on('error', (error) => options.onError?.(`--watch ${dir}: ${(error as Error).message}`));
  watcher.on('ready', () => {
    ready = true;
    options.onReady?.(countFiles(watcher));
  });
  options.stop.addEventListener('abort', notify, { once: true });
  try {
    while (!options.stop.aborted) {
      const next = queue.shift();
      if (next !== undefined) {
        handedOut.add(next);
        // Until the consumer asks again, it may drop this file on a stop without starting it.
        taking = true;
        yield next;
        taking = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    options.stop.removeEventListener('abort', notify);
    for (const timer of holds) clearTimeout(timer);
    if (options.stop.aborted) {
      const files = filesOf(watcher);
      const notHandedOut = files.filter((file) => !handedOut.has(file)).length;
      if (notHandedOut > 0 || !ready || taking)
        options.onStopped?.({ notHandedOut, found: files.length, scanning: !ready });
    }
    await watcher.close();
  }
}

/** SHA-256 of a file's bytes (hex), undefined when it cannot be read (the run's record will say why). */
async function digestOf(file: string): Promise<string | undefined> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/** Files (not folders) the watcher knows of. */
function countFiles(watcher: ReturnType<typeof watch>): number {
  return filesOf(watcher).length;
}

/** Paths (absolute) of the files (not folders) the watcher knows of. */
function filesOf(watcher: ReturnType<typeof watch>): string[] {
  const watched = watcher.getWatched();
  const files: string[] = [];
  for (const [folder, names] of Object.entries(watched)) {
    for (const name of names) {
      const file = path.join(folder, name);
      if (!watched[file]) files.push(file);
    }
  }
  return files;
}
