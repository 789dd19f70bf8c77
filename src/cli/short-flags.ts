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
  const handler = command as unknown as UnknownOptionHandler;
  const original = handler.unknownOption.bind(command);
  handler.unknownOption = (flag: string) => {
    if (flag === short || (flag.startsWith(short) && !flag.startsWith('--')))
      command.error(`error: unknown option '${flag}' (${hint})`, { code: 'commander.unknownOption' });
    original(flag);
  };
  return command;
}
