/**
 * The rate-limit waits no record holds, read back from a run's structured log (`run
 * --log-file`): each `run.end` line carries its run's summary, whose `rate_limited` has
 * `held_ms` (wall time with a call held by the rate limit) and `paced_ms` (waits before
 * first sends, summed over calls). A log appended to by a run and its resumes holds several:
 * they add up. Lines that are not JSON, or other events, are skipped.
 */
import { logEvents } from './log-lines.js';

/** Waits of the runs a log records, ms. */
export interface RunWaits {
  held_ms: number;
  paced_ms: number;
}

/** The summed waits of the `run.end` lines of `file`; undefined when it has none. */
export async function runWaitsFromLog(file: string): Promise<RunWaits | undefined> {
  let found: RunWaits | undefined;
  for await (const { event, rate_limited: waits } of logEvents(file, ['run.end'])) {
    if (event !== 'run.end' || typeof waits !== 'object' || waits === null) continue;
    const { held_ms: held, paced_ms: paced } = waits as { held_ms?: unknown; paced_ms?: unknown };
    found ??= { held_ms: 0, paced_ms: 0 };
    if (typeof held === 'number') found.held_ms += held;
    if (typeof paced === 'number') found.paced_ms += paced;
  }
  return found;
}
