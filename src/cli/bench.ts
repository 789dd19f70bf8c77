/**
 * `visionpipe bench concurrency`: sweep window sizes against a provider and pick the best.
 * The command's flags and help; what it does is actions/bench.ts, loaded when it runs.
 */
import { Command } from 'commander';
import { addProviderOptions, type ProviderFlags } from './provider-flags.js';

export interface BenchFlags extends ProviderFlags {
  pattern: string;
  levels: string;
  json?: boolean;
}

const EXAMPLES = `
Examples:
  $ visionpipe bench concurrency samples/images -p samples/patterns/invoice.json
  $ OPENAI_API_KEY=… visionpipe bench concurrency scans -p invoice.json --provider openai --rpm 500 --levels 5,10,20

Every level processes every input (results are not cached between levels), so against a
paid API the sweep costs levels × inputs calls: use a small, representative folder.`;

function concurrencyCommand(): Command {
  const command = new Command('concurrency')
    .description('Find the best concurrency: images/s, p95 latency and 429s at each level')
    .argument('<inputs...>', 'files, directories, globs or URLs to run at each level')
    .requiredOption('-p, --pattern <file>', 'pattern file')
    .option('--levels <list>', 'concurrency levels to try', '1,5,10,20,50')
    .option('--json', 'print the results as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], flags: BenchFlags) => {
      const { benchConcurrency } = await import('./actions/bench.js');
      await benchConcurrency(inputs, flags);
    });
  return addProviderOptions(command);
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('Measure against your own images and provider')
    .addHelpText(
      'after',
      '\nExamples:\n  $ visionpipe bench concurrency samples/images -p samples/patterns/invoice.json\n  $ visionpipe bench concurrency --help',
    )
    .addCommand(concurrencyCommand());
}
