/**
 * `visionpipe run --watch DIR`: keep running and process new and changed files as they
 * arrive, until Ctrl-C (or SIGTERM) prints the summary. The flags only; the watcher is
 * runs/watch-inputs.ts, loaded when a run uses it.
 */
import type { Command } from 'commander';
import { durationOption } from './duration-flag.js';

export interface WatchFlags {
  watch?: string;
  /** Milliseconds a file's size must stay the same before it is read. */
  watchStable: number;
}

export function addWatchOptions(command: Command): Command {
  return command
    .option(
      '--watch <dir>',
      'keep running: process the files in DIR, then each new or changed one as it arrives, until Ctrl-C',
    )
    .addOption(
      durationOption(
        '--watch-stable',
        "with --watch: how long a file's size must stay unchanged before it is read (a copy still being written is not)",
        1000,
      ),
    );
}
