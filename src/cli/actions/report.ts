/** `visionpipe report`: reads the results (and the log), writes the HTML, prints one line. */
import { readFileSync } from 'node:fs';
import { runWaitsFromLog } from '../../metrics/log-run-waits.js';
import { timelineFromLog } from '../../metrics/log-timeline.js';
import type { Headline } from '../../report/figures.js';
import { formatUsd } from '../../report/html.js';
import { writeReport } from '../../report/index.js';
import { checkOutputTargets } from '../../runs/output-guard.js';
import { formatSuccessRate } from '../../runs/summary.js';
import { formatDuration, plural } from '../format.js';
import type { ReportFlags } from '../report.js';
import { pagesLine, perHourText, processedWhat, rateLimitLine } from '../summary-print.js';

/**
 * The counts of `report`'s text line, split as the run summary splits them: "47 records, 12
 * images processed (11,000 images/hour) · ok 30 …", or with documents "2 records, 1 image and
 * 1 document (2 pages) processed (…) · ok 2 · empty 16 (all fields null) · low confidence 0 ·
 * errors 1 · skipped 0 · success 63.8 %" (aborted ones named when there are some).
 */
export function reportLine(h: Headline): string {
  const t = h.throughput;
  // Documents apart from images, as the run summary's headline (summary-print.ts processedWhat).
  const rate =
    t.images > 0
      ? `${processedWhat(t)} processed (${perHourText(h.images_per_hour)} images/hour${t.documents > 0 ? `, ${perHourText(h.documents_per_hour)} documents/hour` : ''})`
      : 'no image processed';
  return [
    `${plural(h.images, 'record')}, ${rate}`,
    // Named as the run summary names them (summary-print.ts): not "processed", not a record of an image.
    ...(h.refused ? [`${h.refused} read and refused (not a usable image or document)`] : []),
    ...(h.unanswered ? [`${h.unanswered} read, no answer (errors below)`] : []),
    ...(h.not_found ? [`${h.not_found} not found (NOT_FOUND: never read)`] : []),
    `ok ${h.ok}`,
    `empty ${h.empty} (all fields null)`,
    `low confidence ${h.low_confidence}`,
    `errors ${h.errors}`,
    `skipped ${h.skipped}`,
    ...(h.aborted ? [`aborted ${h.aborted}`] : []),
    `success ${formatSuccessRate(h.success_rate)}`,
  ].join(' · ');
}

/**
 * The run summary's rate-limit line over the records (summary-print.ts rateLimitLine), when
 * there was any wait or refusal; held and paced come from the run (`--log`), else the line
 * says where to find them.
 */
export function waitsLine(h: Headline): string | undefined {
  const w = h.rate_limited;
  const known = w.held_ms !== null && w.paced_ms !== null;
  if (w.count === 0 && h.retries === 0 && (w.held_ms ?? 0) < 1000 && (w.paced_ms ?? 0) < 1000)
    return undefined;
  if (known)
    return rateLimitLine({
      rate_limited: {
        count: w.count,
        wait_ms: w.wait_ms,
        held_ms: w.held_ms ?? 0,
        paced_ms: w.paced_ms ?? 0,
      },
      retries: h.retries,
    });
  return `waiting on rate limit: ${formatDuration(w.wait_ms)} after 429s (summed over calls) · ${w.count} × refused (429/overloaded) · held and paced time: not in the records, add --log <the run's --log-file>`;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function reportAction(results: string, flags: ReportFlags): Promise<void> {
  // Never over the results or log it reads, nor over a file that is not a report, unless --overwrite.
  await checkOutputTargets({
    outputs: [{ flag: '--out', option: 'out', file: flags.out, kind: 'report' }],
    reads: { results, log: flags.log },
    inputs: [],
    overwrite: flags.overwrite ?? false,
  });
  const events = flags.log ? await timelineFromLog(flags.log) : [];
  const waits = flags.log ? await runWaitsFromLog(flags.log) : undefined;
  const figures = await writeReport({
    results,
    out: flags.out,
    events,
    ...(waits ? { waits } : {}),
    config: { visionpipe: packageVersion(), results },
    ...(flags.title ? { title: flags.title } : {}),
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
  });
  const h = figures.headline;
  if (flags.json) {
    // The headline, and the slowest images with the page of a document's page record.
    const slowest = figures.slowest.map((r) => ({
      input: r.input,
      ...(r.page === undefined ? {} : { page: r.page }),
      latency_ms: r.latency_ms,
    }));
    // `pages` (documents only) as the run summary's: read, blank, skipped, documents.
    const pages = figures.pages ? { pages: figures.pages } : {};
    process.stdout.write(`${JSON.stringify({ ...figures.headline, ...pages, slowest })}\n`);
  } else {
    const pages = figures.pages ? `; ${pagesLine(figures.pages)}` : '';
    process.stdout.write(`${flags.out}: ${reportLine(h)}, cost ${formatUsd(h.cost_usd)}${pages}\n`);
    const wait = waitsLine(h);
    if (wait) process.stdout.write(`  ${wait}\n`);
  }
}
