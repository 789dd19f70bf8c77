/**
 * `visionpipe estimate`: what a run would send and cost, calling no provider, next to the
 * naive plan. The command's flags and help; what it does is actions/estimate.ts.
 */
import { Command } from 'commander';
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
  /** Refused (estimate-flags.ts): what they save or add is known only from answers. */
  triage?: string;
  escalateTo?: string;
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
the naive plan stays at standard prices. --triage and --escalate-to are refused: the share
of images triage skips and of answers that escalate is known only from the answers, so
estimate prices every image sent once to the main model (an upper bound with triage, a
lower bound with escalation).`;

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
    .option('--triage <model>', 'refused: what triage skips is known only from its answers (see help)')
    .option('--escalate-to <model>', 'refused: what escalates is known only from the answers (see help)')
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
