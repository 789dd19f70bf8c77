/**
 * A test-only crash point for worker processes: `VISIONPIPE_CRASH_POINT=after-answer`
 * makes the process SIGKILL itself right after the first provider answer was journaled
 * (answer-journal.ts), before the pipeline validates or caches it: the exact moment a
 * killed worker used to pay twice. Unset (every real deployment), nothing happens.
 */

/** The crash points a worker knows. */
export const CRASH_POINTS = ['after-answer'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/**
 * The hook for `AnswerJournalOptions.afterPersist`, or undefined when no crash point is
 * set. Throws (naming the variable) for a value that is not a known crash point.
 */
export function crashHook(value = process.env.VISIONPIPE_CRASH_POINT): (() => void) | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(CRASH_POINTS as readonly string[]).includes(value))
    throw new Error(`VISIONPIPE_CRASH_POINT "${value}" must be one of: ${CRASH_POINTS.join(', ')}`);
  return () => {
    process.stderr.write(`visionpipe worker: crash point ${value} reached; killing this process\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
