/**
 * The run report: `writeReport()` reads a results.jsonl, tallies its figures, makes
 * thumbnails of the images it lists and writes one self-contained HTML file.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VisionpipeError } from '../errors.js';
import { FigureTally, type ReportFigures, type TimelineEvent } from './figures.js';
import { renderReport } from './html.js';
import { readResults } from './read-results.js';
import { thumbnails } from './thumbnails.js';

export type { ReportFigures, TimelineEvent } from './figures.js';

export interface ReportOptions {
  /** The results file (JSONL) to report on. */
  results: string;
  /** The HTML file to write. */
  out: string;
  /** 429s and retries with their times (from the live run or its log); default: retries from records. */
  events?: readonly TimelineEvent[];
  /** Configuration and versions to show (flags, never secrets). */
  config?: Record<string, string>;
  title?: string;
  /** Told about what the report skipped (a torn last line). */
  warn?: (message: string) => void;
  /** The run's held and paced waits, ms (the summary's `rate_limited`): no record holds them. */
  waits?: { held_ms: number; paced_ms: number };
}

/**
 * Tallies a results file. Throws INVALID_INPUT when it holds no records (an empty report
 * would show a meaningless 100 % success rate) or a line in the middle is not a record;
 * a torn last line is skipped and counted in `tornLines` (and passed to `warn`).
 */
export async function reportFigures(
  results: string,
  events: readonly TimelineEvent[] = [],
  warn: (message: string) => void = () => {},
  waits?: { held_ms: number; paced_ms: number },
): Promise<ReportFigures> {
  const tally = new FigureTally();
  let tornLines = 0;
  let records = 0;
  const onTornLine = (line: number) => {
    tornLines++;
    warn(`${results}:${line}: the last line is cut short (a run stopped mid-write?): skipped`);
  };
  for await (const record of readResults(results, { onTornLine })) {
    records++;
    tally.add(record);
  }
  if (records === 0)
    throw new VisionpipeError(
      'INVALID_INPUT',
      `${results}: no result records${tornLines ? ' (only a torn line)' : ''}: nothing to report`,
      { input: results },
    );
  return { ...tally.figures(events, waits), tornLines };
}

/** Writes the report; returns its figures (the numbers it shows). */
export async function writeReport(options: ReportOptions): Promise<ReportFigures> {
  const figures = await reportFigures(options.results, options.events, options.warn, options.waits);
  const listed = [...figures.slowest, ...figures.mostExpensive, ...figures.failed].map((r) => r.input);
  const html = renderReport(figures, {
    title:
      options.title ??
      `visionpipe run report — ${figures.headline.images} image${figures.headline.images === 1 ? '' : 's'}`,
    source: path.resolve(options.results),
    generatedAt: new Date(),
    config: { node: process.version, ...options.config },
    thumbnails: await thumbnails(listed),
  });
  try {
    await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
    await writeFile(options.out, html);
  } catch (error) {
    throw new VisionpipeError(
      'WRITE_FAILED',
      `${options.out}: cannot write the report (${(error as Error).message})`,
      {
        input: options.out,
        cause: error,
      },
    );
  }
  return figures;
}
