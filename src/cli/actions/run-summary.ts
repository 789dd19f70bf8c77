/**
 * The end of `visionpipe run` as the user sees it: the summary (text, or JSON with
 * --json) and the exit code that says how the run ended.
 */
import type { FailureReport } from '../../runs/failures.js';
import type { Summary } from '../../runs/summary.js';
import { EXIT } from '../exit-codes.js';
import { plural } from '../format.js';
import type { RunFlags } from '../run.js';
import { inputsGiven, printSummary, type StopInfo } from '../summary-print.js';

export interface RunEnd {
  summary: Summary;
  /** Every input was started and finished (no signal, no budget stop). */
  completed: boolean;
  /** Why the run stopped before every input was done (--max-cost-usd, Ctrl-C/SIGTERM) and how many inputs were left. */
  stop: StopInfo | undefined;
  failures: FailureReport;
  describe: { provider: string; model: string };
  confidenceSource: string | undefined;
  combined: { file: string; outputs: number } | undefined;
}

/** Prints the summary to stdout: one JSON line with --json, else the text summary. */
export function printRunSummary(flags: RunFlags, end: RunEnd): void {
  const { stop } = end;
  if (flags.json) {
    // A stopped run's `inputs` are all it was given (as the text's "after X of N"), inputs
    // never started included; `total` stays the records written.
    const stopped =
      stop === undefined
        ? {}
        : {
            inputs: inputsGiven(end.summary, stop),
            stopped: stop.reason,
            not_processed: stop.notProcessed,
            ...(stop.scanning ? { stopped_while_scanning: true } : {}),
          };
    process.stdout.write(`${JSON.stringify({ ...end.summary, ...stopped, failures: end.failures })}\n`);
    return;
  }
  printSummary(end.summary, {
    results: flags.out,
    stopped: stop !== undefined,
    ...(stop ? { stop } : {}),
    ...end.describe,
    ...(end.confidenceSource ? { confidenceSource: end.confidenceSource } : {}),
    failures: end.failures,
    ...(flags.formatDir ? { formatDir: flags.formatDir } : {}),
    ...(end.combined ? { combined: end.combined } : {}),
  });
}

/**
 * The exit code of a run that ended (exit-codes.ts): 2 when no input exists, every one is
 * malformed, or the arguments named no input at all (an empty folder; the reason goes to stderr), 4 after a budget stop, 130 when a signal cut it short (for --watch: only when it left files of the folder unread),
 * 1 with --fail-on-error when an output is not usable (failedOutputs), else 0.
 */
export function runExitCode(flags: RunFlags, end: RunEnd, inputs: readonly string[] = []): number {
  const result = end.summary;
  if (result.total === 0 && end.completed && flags.watch === undefined) {
    // A folder with no image in it, a glob or --list that named nothing: a usage error
    // like a missing file, not a run that succeeded over nothing.
    const named = [...inputs, ...(flags.list ? [`--list ${flags.list}`] : [])];
    process.stderr.write(
      `visionpipe run: no input found in ${named.length > 0 ? named.join(', ') : 'the arguments'} (no image or document file to process)\n`,
    );
    return 2;
  }
  const missing = result.errors_by_code.NOT_FOUND ?? 0;
  const malformed = result.errors_by_code.INVALID_INPUT ?? 0;
  if (result.total > 0 && missing + malformed === result.total) {
    // Nothing named exists or can be read as an input (a bad URL, base64 or data: URI):
    // a typo in the command, not a batch with failures.
    const why =
      malformed === 0
        ? 'exists (NOT_FOUND); check the paths'
        : 'is a readable input (NOT_FOUND / INVALID_INPUT)';
    process.stderr.write(`visionpipe run: none of the ${plural(result.total, 'input')} ${why}\n`);
    return 2;
  }
  if (end.stop?.reason === 'budget') return EXIT.budgetStopped;
  // A script must not read a run cut short by a signal as a complete one.
  if (end.stop?.reason === 'signal') return EXIT.stopped;
  return failOnErrorExit(flags, result);
}

/**
 * Outputs the user cannot use: error records, and `ok` records that are empty (every field
 * null) or low-confidence (below the threshold, not enforced) — what --failures lists.
 * Skipped (triage) and aborted images are not counted.
 */
export function unusableOutputs(summary: Pick<Summary, 'errors' | 'empty' | 'low_confidence'>): number {
  return summary.errors + summary.empty + summary.low_confidence;
}

/** With --fail-on-error, 1 when any output is unusable (unusableOutputs), else 0. */
export function failOnErrorExit(
  flags: { failOnError?: boolean | undefined },
  summary: Pick<Summary, 'errors' | 'empty' | 'low_confidence'>,
): number {
  return flags.failOnError && unusableOutputs(summary) > 0 ? EXIT.inputsFailed : EXIT.ok;
}
