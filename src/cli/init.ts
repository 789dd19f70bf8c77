/**
 * `visionpipe init`: a working setup in the current folder (a commented config file and a
 * starter pattern) that `visionpipe run` uses offline right away. The command's flags and
 * help; what it does is actions/init.ts, loaded when it runs.
 */
import { Command } from 'commander';

export interface InitFlags {
  force?: boolean;
  dir: string;
}

const HELP = `
Writes, in --dir (default: the current folder):
  visionpipe.config.yaml        defaults for run/estimate/bench, every setting commented
  patterns/receipt.yaml         a starter pattern (ImgGo's YAML form), to copy and edit

Existing files are never replaced unless --force is given; nothing is written when one
would be (exit 2). The config uses the offline local engine, so the next command works
without an API key or network.

Examples:
  $ visionpipe init
  $ visionpipe run receipt.jpg --pattern patterns/receipt.yaml
  $ visionpipe init --dir new-project
  $ visionpipe init --force        # rewrite both files with the defaults

Exit codes: 0 written, 2 a file exists (use --force) or the folder cannot be written.`;

export function initCommand(): Command {
  return new Command('init')
    .description('Write a commented visionpipe.config.yaml and a starter pattern into the current folder')
    .option('--dir <dir>', 'folder to write into', '.')
    .option('--force', 'replace files that already exist')
    .addHelpText('after', HELP)
    .action(async (flags: InitFlags) => {
      const { initAction } = await import('./actions/init.js');
      await initAction(flags);
    });
}
