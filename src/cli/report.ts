/**
 * `visionpipe report results.jsonl --out report.html`: the run report as one HTML file that
 * opens offline (see src/report). With `--log`, 429s and retries come from the run's
 * structured log (`run --log-file`) with their times. Flags here; actions/report.ts does it.
 */
import { Command } from 'commander';
import { refuseShortFlag } from './short-flags.js';

export interface ReportFlags {
  out: string;
  log?: string;
  title?: string;
  json?: boolean;
  overwrite?: boolean;
}

const EXAMPLES = `
Examples:
  $ visionpipe run samples/images -p samples/patterns/invoice.json --out results.jsonl
  $ visionpipe report results.jsonl --out report.html
  $ visionpipe run scans -p invoice.json --log-file run.log && visionpipe report results.jsonl --log run.log
  $ visionpipe run scans -p invoice.json --report report.html   # the same, written when the run ends

The report shows the headline figures (images, success rate, images/hour, p50/p95/p99,
cost per image, saved against the naive plan), charts (latency histogram, throughput
over time with errors, retries and 429s, cost and tokens by pattern/provider/model,
errors by code), the slowest, most expensive and failed images with thumbnails and
outputs, and the versions used. It is one file: no network is needed to open it.`;

export function reportCommand(): Command {
  const command = new Command('report')
    .description('Write the HTML run report of a results file: figures, charts, slowest/failed images')
    .argument('<results>', 'results file written by `visionpipe run` (JSONL)')
    .option('--out <file>', "HTML file to write (no -o: that is run's results file)", 'report.html')
    .option('--log <file>', "the run's --log-file, for 429s and retries over time")
    .option('--title <text>', 'report title')
    .option('--json', 'also print the figures as JSON')
    .option('--overwrite', 'replace an --out file that is not a visionpipe report')
    .addHelpText('after', EXAMPLES)
    .action(async (results: string, flags: ReportFlags) => {
      const { reportAction } = await import('./actions/report.js');
      await reportAction(results, flags);
    });
  return refuseShortFlag(
    command,
    '-o',
    "report writes its HTML file to --out <file>; -o is run's results file",
  );
}
