/**
 * `visionpipe estimate`: what a run would send and cost, calling no provider, next to the
 * naive plan. The command's flags and help; what it does is actions/estimate.ts.
 */
import { Command } from 'commander';
import { VisionpipeError } from '../errors.js';
import { addCostOptions, type CostFlags } from './cost-flags.js';
import { addDocumentOptions, type DocumentFlags } from './document-flags.js';
import { addProviderOptions, type ProviderFlags } from './provider-flags.js';
import { refuseFlag } from './short-flags.js';
import { addSourceOptions, type SourceFlags } from './source-flags.js';

/**
 * Run's options estimate does not take, each with why it does not change what is priced
 * (test/cli/estimate-cost-flags.test.ts holds every option of run to be in estimate, here,
 * or in RUN_OPTIONS_REFUSED).
 */
export const RUN_OPTIONS_NOT_PRICED: Readonly<Record<string, string>> = {
  '--concurrency': 'how many calls are in flight, not which',
  '--out': 'where records are written',
  '--format-dir': 'where rendered outputs are written',
  '--combine': 'where outputs are combined',
  '--failures': 'where failed records are written',
  '--fail-on-error': 'the exit code',
  '--cache-ttl': 'how long new results are kept; estimate reads the cache as it is',
  '--fresh': 'resume only: estimate prices every input not in the cache, as a fresh run pays',
  '--retry-failed':
    'remembered failures: estimate prices them as sent (the upper bound a run with --retry-failed pays)',
  '--batch-poll': 'how often a batch is checked',
  '--overwrite': 'which files may be replaced',
  '--keep-csv-formulas': 'how CSV cells are written',
  '--timeout': 'how long a call may take',
  '--no-progress': 'the progress display',
  '--metrics-port': 'monitoring',
  '--metrics-host': 'monitoring',
  '--metrics-linger': 'monitoring',
  '--log-file': 'logging',
  '--log-level': 'logging',
  '--alert-webhook': 'alerting',
  '--alert-success-rate': 'alerting',
  '--alert-p95': 'alerting',
  '--alert-window': 'alerting',
  '--alert-interval': 'alerting',
  '--alert-min-samples': 'alerting',
  '--max-cost-usd': "a cap: the run stops before passing it; estimate's figure says whether it will",
  '--report': 'the HTML report',
  '--queue': 'where the calls are made (workers make the same ones)',
  '--database-url': 'where queued records are kept',
  '--queue-prefix': 'the queue’s key names',
  '--watch': 'keeps a run going; estimate prices the files there now',
  '--watch-stable': 'when a watched file is read',
};

/** Run's options that change what is paid but estimate cannot price: refused, saying why. */
export const RUN_OPTIONS_REFUSED: Readonly<Record<string, string>> = {
  '--near-dup':
    'estimate does not compare images by perceptual hash: near-duplicates are priced as distinct images (an upper bound); leave --near-dup out',
  '--pass-urls':
    'estimate prices the prepared bytes; --pass-urls lets the provider fetch some URLs at their own size, known only from a run; leave --pass-urls out',
};

export interface EstimateFlags extends ProviderFlags, CostFlags, SourceFlags, DocumentFlags {
  pattern: string;
  list?: string;
  cache: string;
  stateDir: string;
  json?: boolean;
  /** Price what is sent as run --batch-api pays (the batch discount). */
  batchApi?: boolean;
  /** The expected share of answers that escalate (0–1). */
  escalationRate?: number;
  /** A previous run's results (its -o file): the share of its answers that escalated. */
  results?: string;
}

function share(option: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= 0 && n <= 1))
      throw new VisionpipeError('INVALID_OPTION', `${option} must be a number from 0 to 1 (got "${value}")`, {
        option,
      });
    return n;
  };
}

const EXAMPLES = `
Examples:
  $ visionpipe estimate samples/images -p samples/patterns/invoice.json --provider openai --model gpt-4.1-mini
  $ visionpipe estimate scans -p invoice.json --provider anthropic --max-image-tokens 800 --json
  $ visionpipe estimate invoice.pdf -p invoice.json --provider openai --model gpt-4.1-mini --pages each

No provider is called and no API key is needed. "naive" is every input at full
resolution, duplicates and cached results included, no triage; "optimized" is what
visionpipe would send: distinct, uncached images at the size the model keeps (or the
--max-image-tokens budget). Output tokens are an estimate from the pattern's size.
Documents (PDF, multi-page TIFF, HEIC) are priced per selected page (--page-range,
--max-pages), rendered as run renders them, so blank pages (never sent by run) and pages
already cached are not priced; --pages document (the default, as in run) prices the pages
in one request where the provider takes them together, --pages each one request a page. --batch-api prices what is sent at the provider's batch
discount (pricing.json batchDiscount: 0.5 for openai and anthropic, their pricing pages);
the naive plan stays at standard prices.

--triage local runs the local engine's triage on each image it would send (free, on this
machine, no network) and prices only the relevant ones: run skips the rest. Documents are
priced without triage. A provider's triage (--triage openai:…) is refused: each verdict is
a paid answer. --escalate-to is priced as a range, none escalate … all escalate (each
escalated image paid again on the stronger model), since escalation depends on the first
model's answer; with --escalation-rate R (0–1), or --results FILE (a previous run's -o: the
share of its answered records that escalated) or else the latest run with escalations
that --state-dir knows on the same model, the expected figure too. The output says the
assumption.`;

export function estimateCommand(): Command {
  const command = new Command('estimate')
    .description('Tokens and cost a run would have, next to the naive plan; calls no provider')
    .argument('[inputs...]', 'files, directories (recursive), globs or http(s) URLs')
    .requiredOption('-p, --pattern <file>', 'pattern file')
    .option('--list <file>', 'read more inputs from a file, one path or URL per line')
    .option(
      '--cache <store>',
      'cache to check for results already paid for: sqlite, memory, off, redis://…',
      'sqlite',
    )
    .option('--state-dir <dir>', 'where the SQLite cache lives', '.visionpipe')
    .option('--json', 'print {images: [...], totals} as JSON')
    .option(
      '--batch-api',
      'price what is sent as run --batch-api pays: the batch discount (openai, anthropic: half price)',
    )
    .option(
      '--escalation-rate <r>',
      'expected share of images that escalate (0–1)',
      share('--escalation-rate'),
    )
    .option('--results <file>', "a previous run's results (-o): its escalation rate is the expected one")
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], flags: EstimateFlags) => {
      const { runEstimate } = await import('./actions/estimate.js');
      await runEstimate(inputs, flags);
    });
  addProviderOptions(command);
  addSourceOptions(command);
  addDocumentOptions(command);
  for (const [flag, why] of Object.entries(RUN_OPTIONS_REFUSED)) refuseFlag(command, flag, why);
  const hint = 'estimate writes no results file: it prints its table, or JSON with --json (> file)';
  refuseFlag(refuseFlag(command, '-o', hint), '--out', hint);
  return addCostOptions(command, {
    '--triage':
      "local: run local triage here and price only the relevant images (a provider's triage is refused)",
    '--escalate-to': 'price escalation to provider:model as a range (none … all escalate)',
    '--escalate-below': 'as in run: escalate when confidence is below this (0–1)',
  });
}
