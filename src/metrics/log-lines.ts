/**
 * The structured events of a run's log (`run --log-file`, JSON lines written by log.ts),
 * read back one at a time: lines that are not JSON objects with an `event` are skipped (a
 * log may be appended to by several runs and tools). A log that cannot be read is
 * READ_FAILED naming it.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { VisionpipeError } from '../errors.js';

/** One log line's fields, with its `event` name. */
export type LogEvent = Record<string, unknown> & { event: unknown };

/** Yields the JSON objects of `file` whose line mentions one of `events` (a cheap pre-filter) and that have an `event`. */
export async function* logEvents(file: string, events: readonly string[]): AsyncGenerator<LogEvent> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  try {
    for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (!events.some((name) => line.includes(`"${name}"`))) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof value === 'object' && value !== null && 'event' in value) yield value as LogEvent;
    }
  } catch (error) {
    throw new VisionpipeError('READ_FAILED', `${file}: cannot read the log (${(error as Error).message})`, {
      input: file,
      cause: error,
    });
  }
}
