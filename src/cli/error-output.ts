/**
 * How the CLI says a command could not run: one line, `error [CODE]: message`, on stderr.
 * The code is the stable VisionpipeError code (docs/errors), the message names the input or
 * option; neither carries a secret (secrets.ts) and a stack trace is never printed for what a
 * user gave (a pattern, an image, a flag): only with VISIONPIPE_DEBUG=1, for bug reports.
 *
 * Exit codes: 2 for a VisionpipeError (the command cannot start as asked), 3 for anything
 * else (INTERNAL: a bug in visionpipe, including a RangeError that escaped every guard).
 */
import { isVisionpipeError } from '../errors.js';
import { redactSecrets } from '../secrets.js';

export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

export interface ErrorReport {
  line: string;
  exitCode: number;
}

/** The line printed for `error` and the exit code it leads to. */
export function describeCliError(error: unknown, env: NodeJS.ProcessEnv = process.env): ErrorReport {
  if (isVisionpipeError(error))
    return { line: `error [${error.code}]: ${error.message}`, exitCode: EXIT_USAGE };
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const debug =
    env.VISIONPIPE_DEBUG === '1' && error instanceof Error && error.stack ? `\n${error.stack}` : '';
  const hint = debug ? '' : ' (an internal failure: please report it; VISIONPIPE_DEBUG=1 shows where)';
  return { line: redactSecrets(`error [INTERNAL]: ${message}${hint}${debug}`), exitCode: EXIT_INTERNAL };
}

/** Prints the error line on stderr and returns the exit code. */
export function reportCliError(
  error: unknown,
  stream: { write(text: string): unknown } = process.stderr,
): number {
  const { line, exitCode } = describeCliError(error);
  stream.write(`${line}\n`);
  return exitCode;
}
