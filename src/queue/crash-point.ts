/**
 * Test-only crash points for worker processes: `VISIONPIPE_CRASH_POINT=after-answer`
 * makes the process SIGKILL itself right after the first provider answer was journaled
 * (answer-journal.ts), before the pipeline validates or caches it: the exact moment a
 * killed worker used to pay twice. `before-journal` kills it after the provider answered
 * and before the answer is journaled: the window that is left (the re-run pays again and
 * the job says `possibly_paid`). Unset (every real deployment), nothing happens.
 */

/** The crash points a worker knows. */
export const CRASH_POINTS = ['after-answer', 'before-journal'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/**
 * The hook of the crash point set, to be called at `point` (it kills the process only at
 * the point set), or undefined when none is set. Throws (naming the variable) for a
 * value that is not a known crash point.
 */
export function crashHook(
  value = process.env.VISIONPIPE_CRASH_POINT,
): ((point: CrashPoint) => void) | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(CRASH_POINTS as readonly string[]).includes(value))
    throw new Error(`VISIONPIPE_CRASH_POINT "${value}" must be one of: ${CRASH_POINTS.join(', ')}`);
  return (point) => {
    if (point !== value) return;
    process.stderr.write(`visionpipe worker: crash point ${value} reached; killing this process\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
