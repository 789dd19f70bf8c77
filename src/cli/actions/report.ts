/** `visionpipe report`: reads the results (and the log), writes the HTML, prints one line. */
import { readFileSync } from 'node:fs';
import { timelineFromLog } from '../../metrics/log-timeline.js';
import { formatPercent, formatUsd } from '../../report/html.js';
import { writeReport } from '../../report/index.js';
import { checkOutputTargets } from '../../runs/output-guard.js';
import type { ReportFlags } from '../report.js';
import { pagesLine } from '../summary-print.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function reportAction(results: string, flags: ReportFlags): Promise<void> {
  // Never over the results or log it reads, nor over a file that is not a report, unless --overwrite.
  await checkOutputTargets({
    outputs: [{ flag: '-o', option: 'out', file: flags.out, kind: 'report' }],
    reads: { results, log: flags.log },
    inputs: [],
    overwrite: flags.overwrite ?? false,
  });
  const events = flags.log ? await timelineFromLog(flags.log) : [];
  const figures = await writeReport({
    results,
    out: flags.out,
    events,
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
    process.stdout.write(
      `${flags.out}: ${h.images} images, success ${formatPercent(h.success_rate)}, cost ${formatUsd(h.cost_usd)}${pages}\n`,
    );
  }
}
