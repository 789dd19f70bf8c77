/**
 * The 429s and retries of a run, with their times, read back from its structured log
 * (`run --log-file`, JSON lines written by log.ts): lines whose `event` is `retry` or
 * `rate_limited`. Lines that are not JSON, or other events, are skipped: a log may be
 * appended to by several runs and tools.
 */
import type { TimelineEvent } from '../report/figures.js';
import { logEvents } from './log-lines.js';

export async function timelineFromLog(file: string): Promise<TimelineEvent[]> {
  const events: TimelineEvent[] = [];
  for await (const { event, time } of logEvents(file, ['retry', 'rate_limited'])) {
    if ((event === 'retry' || event === 'rate_limited') && typeof time === 'number')
      events.push({ at: time, kind: event });
  }
  return events;
}
