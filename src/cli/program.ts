/**
 * The `visionpipe` command-line program. Each command lives in its own file; this one
 * wires them together and owns exit codes: 0 success, 1 some inputs failed, 2 usage error.
 * Every file imported here declares flags and help only and must stay light: what a
 * command does is imported when it runs (actions/, or an `await import` in the action).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench.js';
import { cacheCommand } from './cache.js';
import { reportCliError } from './error-output.js';
import { estimateCommand } from './estimate.js';
import { evalCommand } from './eval.js';
import { EXIT } from './exit-codes.js';
import { initCommand } from './init.js';
import { optimizeCommand } from './optimize.js';
import { patternCommand } from './pattern.js';
import { reportCommand } from './report.js';
import { runCommandDefinition } from './run.js';
import { serviceCommands } from './service-commands.js';
import { simulateCommand } from './simulate.js';
import { checkMissingOptions, typosBeforeMissingOptions } from './typos-first.js';

const EXAMPLES = `
Examples:
  $ visionpipe init                # a commented config and a starter pattern in this folder
  $ visionpipe run samples/images --pattern samples/patterns/invoice.json
  $ visionpipe estimate samples/images -p samples/patterns/invoice.json --provider openai
  $ visionpipe optimize ./scans --out-dir out
  $ visionpipe run --help          # every command's flags and examples

Docs: README.md and docs/ in the package.`;

export { EXIT };

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('visionpipe')
    .description(
      'Images in, schema-conformant structured data out: resized per provider, cached, deduplicated, paced to the rate limit, measured.',
    )
    .version(packageVersion(), '-v, --version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage and examples)')
    .configureHelp({ sortOptions: false, showGlobalOptions: true })
    .addHelpText('after', EXAMPLES);
  program.addCommand(runCommandDefinition());
  program.addCommand(estimateCommand());
  program.addCommand(optimizeCommand());
  program.addCommand(evalCommand());
  program.addCommand(cacheCommand());
  program.addCommand(initCommand());
  program.addCommand(patternCommand());
  program.addCommand(reportCommand());
  program.addCommand(simulateCommand());
  program.addCommand(benchCommand());
  for (const command of serviceCommands()) program.addCommand(command);
  return program;
}

export interface CliOptions {
  /** Runs before the action of whichever command runs; not for help, version or usage errors. */
  beforeAction?: () => Promise<void> | void;
}

/** Runs the program and returns the process exit code. */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<number> {
  const program = buildProgram();
  const { beforeAction } = options;
  // The first hook to run: a missing mandatory option is a usage error before anything loads.
  program.hook('preAction', async (_program, actioned) => {
    checkMissingOptions(actioned);
    if (beforeAction) await beforeAction();
  });
  // Subcommands inherit exitOverride only when set before they are added, so set it on each.
  const override = (command: Command) => {
    command.exitOverride();
    typosBeforeMissingOptions(command);
    for (const sub of command.commands) override(sub);
  };
  override(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
      if (error.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    // A bad pattern, flag, list or truth file: the command cannot start. Say why, plainly:
    // the code and the message, never a stack trace (error-output.ts).
    return reportCliError(error);
  }
}
