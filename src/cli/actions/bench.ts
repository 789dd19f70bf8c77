/**
 * What `visionpipe bench concurrency` does (flags and help: ../bench.ts): runs every input
 * at each level, prints a row per level as it finishes, then the best level.
 */
import { VisionpipeError } from '../../errors.js';
import { loadPattern } from '../../patterns/index.js';
import { createProvider } from '../../providers/registry.js';
import { sweepConcurrency } from '../../runs/concurrency-sweep.js';
import { expandInputs } from '../../runs/inputs.js';
import type { BenchFlags } from '../bench.js';
import { fixedWidth } from '../format.js';
import { limiterFrom, providerOptionsFrom } from '../provider-settings.js';

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

export async function benchConcurrency(inputs: string[], flags: BenchFlags): Promise<void> {
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
}
