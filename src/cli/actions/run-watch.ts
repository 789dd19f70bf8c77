/**
 * `run --watch DIR`: the folder checked up front, then its files as they arrive
 * (runs/watch-inputs.ts, loaded only for a watch).
 */
import { plural } from '../format.js';

/** Throws NOT_FOUND / INVALID_OPTION when DIR is not a readable folder. */
export async function checkWatchDir(dir: string): Promise<void> {
  await (await import('../../runs/watch-inputs.js')).checkWatchDir(dir);
}

/**
 * The files of DIR now and as they become stable for `stableMs` (ms), until `stop` aborts;
 * `exclude` are absolute paths never yielded (the run's own outputs).
 */
export async function watchedInputs(
  dir: string,
  stableMs: number,
  stop: AbortSignal,
  exclude: string[],
  log: (message: string) => void,
  /** Told when a stop left files of DIR unread (runs/watch-inputs.ts onStopped). */
  onStopped?: (stopped: { notHandedOut: number; found: number; scanning: boolean }) => void,
): Promise<AsyncGenerator<string>> {
  const { watchInputs } = await import('../../runs/watch-inputs.js');
  return watchInputs(dir, {
    stop,
    stableMs,
    exclude,
    onReady: (existing) =>
      log(
        `Watching ${dir} (${plural(existing, 'file')} there now): new and changed files are processed until Ctrl-C`,
      ),
    onError: (message) => log(`warning: ${message}`),
    ...(onStopped ? { onStopped } : {}),
  });
}
