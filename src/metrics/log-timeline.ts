/**
 * The 429s and retries of a run, with their times, read back from its structured log
 * (`run --log-file`, JSON lines written by log.ts): lines whose `event` is `retry` or
 * `rate_limited`. Lines that are not JSON, or other events, are skipped: a log may be
 * appended to by several runs and tools.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { VisionpipeError } from '../errors.js';
import type { TimelineEvent } from '../report/figures.js';

export async function timelineFromLog(file: string): Promise<TimelineEvent[]> {
  const events: TimelineEvent[] = [];
  const stream = createReadStream(file, { encoding: 'utf8' });
  try {
    for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (!line.includes('"event"')) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof value !== 'object' || value === null) continue;
      const { event, time } = value as { event?: unknown; time?: unknown };
      if ((event === 'retry' || event === 'rate_limited') && typeof time === 'number')
        events.push({ at: time, kind: event });
    }
  } catch (error) {
    throw new VisionpipeError('READ_FAILED', `${file}: cannot read the log (${(error as Error).message})`, {
      input: file,
      cause: error,
    });
  }
  return events;
}
