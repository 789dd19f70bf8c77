/** `visionpipe bench concurrency`: sweep window sizes against a provider and pick the best. */
import { Command } from 'commander';
import { VisionpipeError } from '../errors.js';
import { loadPattern } from '../patterns/index.js';
import { createProvider } from '../providers/registry.js';
import { sweepConcurrency } from '../runs/concurrency-sweep.js';
import { expandInputs } from '../runs/inputs.js';
import { fixedWidth } from './format.js';
import {
  addProviderOptions,
  limiterFrom,
  type ProviderFlags,
  providerOptionsFrom,
} from './provider-flags.js';

interface BenchFlags extends ProviderFlags {
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

function parseLevels(text: string): number[] {
  const levels = text.split(',').map((part) => Number(part.trim()));
  if (levels.length === 0 || levels.some((n) => !Number.isInteger(n) || n < 1 || n > 1024)) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--levels "${text}" must be whole numbers from 1 to 1024, comma-separated`,
      { option: 'levels' },
    );
  }
  return levels;
}

function concurrencyCommand(): Command {
  const command = new Command('concurrency')
    .description('Find the best concurrency: images/s, p95 latency and 429s at each level')
    .argument('<inputs...>', 'files, directories, globs or URLs to run at each level')
    .requiredOption('-p, --pattern <file>', 'pattern file')
    .option('--levels <list>', 'concurrency levels to try', '1,5,10,20,50')
    .option('--json', 'print the results as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (inputs: string[], flags: BenchFlags) => {
      const levels = parseLevels(flags.levels);
      const pattern = await loadPattern(flags.pattern);
      const provider = createProvider(flags.provider, providerOptionsFrom(flags));
      provider.checkCredentials?.(); // it will call the provider: no key, no sweep
      const limiter = limiterFrom(flags, (message) => process.stderr.write(`warning: ${message}\n`));
      const header = `${fixedWidth('concurrency', 12, 'right')} ${fixedWidth('images/s', 9, 'right')} ${fixedWidth('p95', 9, 'right')} ${fixedWidth('429s', 6, 'right')} ${fixedWidth('errors', 7, 'right')}`;
      if (!flags.json) process.stdout.write(`${header}\n`);
      try {
        const result = await sweepConcurrency(
          levels,
          () => expandInputs(inputs),
          {
            pattern,
            provider,
            ...(flags.model ? { model: flags.model } : {}),
            ...(limiter ? { limiter } : {}),
          },
          (level) => {
            if (flags.json) return;
            process.stdout.write(
              `${fixedWidth(String(level.concurrency), 12, 'right')} ${fixedWidth(level.images_per_s.toFixed(2), 9, 'right')} ${fixedWidth(`${level.p95_ms} ms`, 9, 'right')} ${fixedWidth(String(level.rate_limited), 6, 'right')} ${fixedWidth(String(level.errors), 7, 'right')}\n`,
            );
          },
        );
        if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else
          process.stdout.write(
            `\nbest: --concurrency ${result.best} (the smallest level within 5 % of the fastest)\n`,
          );
      } finally {
        await provider.close();
        await limiter?.close();
      }
    });
  return addProviderOptions(command);
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('Measure against your own images and provider')
    .addCommand(concurrencyCommand());
}
