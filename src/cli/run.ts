/**
 * `visionpipe run`: the main job. Images in (files, folders, globs, URLs, a list file),
 * one JSONL record per input out, flushed as each finishes, and a summary at the end.
 * The command's flags and help; what it does is actions/run.ts, loaded when it runs.
 */
import { Command } from 'commander';
import { addCostOptions, type CostFlags } from './cost-flags.js';
import { addDocumentOptions, type DocumentFlags } from './document-flags.js';
import { durationOption } from './duration-flag.js';
import { addObserveOptions, type ObserveFlags } from './observe-flags.js';
import { integer } from './parsers.js';
import { addProviderOptions, type ProviderFlags } from './provider-flags.js';
import { addQueueOptions, type QueueRunFlags } from './run-queue-flags.js';
import { refuseFlag } from './short-flags.js';
import { addSourceOptions, type SourceFlags } from './source-flags.js';
import { addWatchOptions, type WatchFlags } from './watch-flags.js';

export interface RunFlags
  extends ProviderFlags,
    CostFlags,
    SourceFlags,
    ObserveFlags,
    DocumentFlags,
    QueueRunFlags,
    WatchFlags {
  pattern: string;
  batchApi?: boolean;
  batchPoll: number;
  cache: string;
  cacheTtl: number;
  stateDir: string;
  nearDup?: number;
  fresh?: boolean;
  retryFailed?: boolean;
  concurrency?: number;
  out: string;
  formatDir?: string;
  json?: boolean;
  failOnError?: boolean;
  list?: string;
  passUrls?: boolean;
  overwrite?: boolean;
  keepCsvFormulas?: boolean;
  timeout: number;
  progress: boolean;
  failures?: string;
  combine?: string;
}

const EXAMPLES = `
Examples:
  $ visionpipe run samples/images --pattern samples/patterns/invoice.json
  $ visionpipe run samples/images -p samples/patterns/invoice.json --route samples/routes.yaml --triage local
  $ visionpipe run 'scans/**/*.jpg' --pattern receipt.yaml --out receipts.jsonl --format-dir out/csv
  $ visionpipe run scans -p receipt.yaml --combine receipts.csv   # one CSV: input column + a row per image
  $ visionpipe run --list urls.txt --pattern invoice.json --concurrency 4 --json
  $ OPENAI_API_KEY=… visionpipe run scans -p invoice.json --provider openai --model gpt-4.1-mini --rpm 500 \\
      --triage local --escalate-to openai:gpt-4.1 --max-image-tokens 800
  $ visionpipe run scans -p invoice.json --provider openai --base-url http://localhost:11434/v1 --model llava  # Ollama
  $ visionpipe run scans -p invoice.json --provider anthropic --rpm 50 --limiter redis://127.0.0.1:6379  # shared
  $ visionpipe run scans -p invoice.json --provider openai --batch-api   # half price; run again to resume
  $ visionpipe run scans -p invoice.json --provider openai --metrics-port 9464 --log-file run.log \\
      --alert-webhook https://hooks.slack.com/services/… --max-cost-usd 20 --report report.html
  $ visionpipe run --watch inbox -p receipt.yaml   # keep running: new and changed files, until Ctrl-C
  $ visionpipe run invoices/*.pdf -p invoice.json --page-range 1-3 --pages each   # PDFs: docs/documents.md
  $ DATABASE_URL=postgres://db/vp visionpipe run scans -p invoice.json --queue redis://redis:6379  # on the workers

Each input gets one line in --out (JSONL): input, pattern, sha256, status (ok | error | skipped),
output, error {code, message}, cache, provider, model, latency_ms, attempts,
image {width, height, bytes, original_bytes, tokens, original_tokens; frames, frame for an
animated GIF/WebP}, usage {…, estimated}, cost_usd, cascade {triage, escalated_from}, finished_at;
documents add pages, pages_sent, blank_pages, page (--pages each), document_sha256.
Ctrl-C stops starting new images and lets running ones finish; a second Ctrl-C aborts them and
prints the summary so far. The progress line shows rate-limit waits (time, 429s, retries).
Running the same command again resumes: finished inputs are kept, failed ones retried.
Results are cached by content (not path) for --cache-ttl: duplicates are paid once.
Watch it: --metrics-port 9464 (Prometheus), --log-file run.log (JSON lines), --alert-webhook URL
(Slack or generic JSON: success rate, p95, circuit open, budget), --max-cost-usd 20 (stops before
exceeding it; run again with more to resume), --report report.html. OTEL_EXPORTER_OTLP_ENDPOINT
turns on OpenTelemetry traces.

Exit codes: 0 done (per-image errors are in the results), 1 with --fail-on-error when any
output is not usable (an error, an empty output or a low-confidence one; skipped are not), 2 usage error, when no input exists (every record NOT_FOUND) or none is named
(an empty folder), 4 stopped by --max-cost-usd, 130 stopped by Ctrl-C/SIGTERM before every
input was done (--watch: 0).`;

export function runCommandDefinition(): Command {
  const command = new Command('run')
    .description(
      'Extract structured data from images with a pattern: one JSONL record per input, then a summary',
    )
    .argument('[inputs...]', 'files, directories (recursive), globs or http(s) URLs')
    .requiredOption('-p, --pattern <file>', 'pattern file (.json or .yaml)')
    .option(
      '-c, --concurrency <n>',
      'images in flight, a sliding window (default: CPU cores for local, 10 for APIs)',
      integer(1, 1024),
    )
    .option('-o, --out <file>', 'results file (JSONL)', 'results.jsonl')
    .option('--format-dir <dir>', "also write each output rendered in the pattern's format")
    .option(
      '--combine <file>',
      'also write every output of the run into one file: .csv (input column + rows), .json (array), .yaml, .xml (one document)',
    )
    .option(
      '--failures <file>',
      'also write every failed record to this JSONL file (the summary names the first few)',
    )
    .option('--list <file>', 'read more inputs from a file, one path or URL per line')
    .option('--json', 'print the summary as JSON')
    .option(
      '--fail-on-error',
      'exit with 1 when any output is not usable: an error, empty (every field null) or low-confidence; triage-skipped images do not count',
    )
    .option('--cache <store>', 'result cache: sqlite, memory, off or a redis:// URL', 'sqlite')
    .addOption(durationOption('--cache-ttl', 'how long cached results live (0 = forever)', 24 * 3600 * 1000))
    .option('--state-dir <dir>', 'where the cache and run state live', '.visionpipe')
    .option(
      '--near-dup <bits>',
      'reuse the result of an image within this perceptual-hash distance (not for documents shot alike: see docs/cache.md)',
      integer(0, 32),
    )
    .option('--fresh', 'ignore results of an earlier run of this command (no resume)')
    .option(
      '--retry-failed',
      'try again failures remembered as repeating (SCHEMA_MISMATCH, undecodable or oversized images; kept for --cache-ttl)',
    )
    .option('--batch-api', 'use the provider batch API (openai, anthropic): half price, results within 24 h')
    .addOption(durationOption('--batch-poll', 'how often to check a batch', 30_000))
    .option(
      '--pass-urls',
      'let the provider fetch public URL inputs itself when nothing was resized or stripped (default: it gets the prepared bytes)',
    )
    .option(
      '--overwrite',
      'replace an -o, --failures, --combine, --report or --log-file file, or --format-dir files, that visionpipe did not write',
    )
    .option(
      '--keep-csv-formulas',
      "write CSV cells starting with = + - @ as they are (default: prefixed with ')",
    )
    .addOption(durationOption('--timeout', 'per-call provider timeout', 120_000, 1))
    .option('--no-progress', 'no progress bar or progress lines')
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], flags: RunFlags, self: Command) => {
      // --provider has a default (local): with --queue only a chosen one goes to the workers.
      const providerChosen = self.getOptionValueSource('provider') !== 'default';
      process.exitCode = flags.queue
        ? await (await import('./actions/run-queue.js')).runQueueCommand(inputs, { ...flags, providerChosen })
        : await (await import('./actions/run.js')).runCommand(inputs, flags);
    });
  addProviderOptions(command);
  addSourceOptions(command);
  addObserveOptions(command);
  addDocumentOptions(command);
  addQueueOptions(command);
  addWatchOptions(command);
  refuseFlag(
    command,
    '--out-dir',
    "run writes rendered outputs to --format-dir <dir>; --out-dir is optimize's folder",
  );
  return addCostOptions(command);
}
