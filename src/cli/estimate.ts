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

export interface EstimateFlags extends ProviderFlags, CostFlags, DocumentFlags {
  pattern: string;
  list?: string;
  cache: string;
  stateDir: string;
  json?: boolean;
  /** Price what is sent as run --batch-api pays (the batch discount). */
  batchApi?: boolean;
  /** `local` only: run on the inputs here (free, no network); a provider's triage is refused. */
  triage?: string;
  triageQuestion?: string;
  /** Priced as a range (none … all escalate) and, with a known rate, the expected figure. */
  escalateTo?: string;
  escalateBelow?: number;
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
    .option('--triage <model>', 'local: run local triage here and price only the relevant images')
    .option('--triage-question <text>', 'the yes/no question (default: derived from the pattern)')
    .option('--escalate-to <model>', 'price escalation to provider:model as a range (none … all escalate)')
    .option(
      '--escalate-below <confidence>',
      'as in run: escalate when confidence is below this',
      share('--escalate-below'),
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
  addDocumentOptions(command);
  const hint = 'estimate writes no results file: it prints its table, or JSON with --json (> file)';
  refuseFlag(refuseFlag(command, '-o', hint), '--out', hint);
  return addCostOptions(command, { cascade: false });
}
