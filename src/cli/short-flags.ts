/**
 * One meaning per short flag across every command (issue 13): `-p` is always `--pattern`
 * and `-o` always the results file (`run --out`). A command whose output is something
 * else (report's HTML file, optimize's folder) takes only its long name; there, `-o` is
 * commander's unknown-option usage error followed by a hint naming the flag to use, so a
 * habit from another command never writes something unexpected.
 */
import type { Command } from 'commander';

/** The one long flag each short flag stands for, in every command that declares it. */
export const SHORT_FLAG_MEANINGS: Readonly<Record<string, string>> = {
  '-p': '--pattern',
  '-o': '--out',
  '-c': '--concurrency',
  '-m': '--model',
};

/** Commander's unknown-option handler (a public method its typings leave out). */
interface UnknownOptionHandler {
  unknownOption(flag: string): void;
}

/**
 * Makes `short` (e.g. `-o`, also written joined to its value: `-oreport.html`) an unknown
 * option of `command` whose usage error ends with `hint` (e.g. "report writes its HTML
 * file to --out <file>; -o is run's results file"). Returns `command`.
 */
export function refuseShortFlag(command: Command, short: string, hint: string): Command {
  return refuseFlag(command, short, hint);
}

/**
 * Makes `flag` an unknown option of `command` whose usage error ends with `hint` naming the
 * flag to use: a short flag (also joined to its value), or a long one another command has
 * (`run --out-dir`, meaning --format-dir; also written `--out-dir=dir`). Returns `command`.
 */
export function refuseFlag(command: Command, flag: string, hint: string): Command {
  const handler = command as unknown as UnknownOptionHandler;
  const original = handler.unknownOption.bind(command);
  const long = flag.startsWith('--');
  handler.unknownOption = (given: string) => {
    const matches = long
      ? given === flag || given.startsWith(`${flag}=`)
      : given === flag || (given.startsWith(flag) && !given.startsWith('--'));
    if (matches)
      command.error(`error: unknown option '${given}' (${hint})`, { code: 'commander.unknownOption' });
    original(given);
  };
  return command;
}
