/**
 * `visionpipe cache stats|clear`: look into and invalidate the result cache. The commands'
 * flags and help; what they do is actions/cache.ts, loaded when one runs.
 */
import { Command } from 'commander';
import { DURATION_FORMS } from './duration-flag.js';

interface StoreFlags {
  cache: string;
  stateDir: string;
}

export interface StatsFlags extends StoreFlags {
  json?: boolean;
}

export interface ClearFlags extends StoreFlags {
  pattern?: string;
  olderThan?: string;
  all?: boolean;
}

function storeOptions(command: Command): Command {
  return command
    .option('--cache <store>', 'which cache: sqlite, memory or a redis:// URL', 'sqlite')
    .option('--state-dir <dir>', 'where the SQLite cache lives', '.visionpipe');
}

function statsCommand(): Command {
  return storeOptions(
    new Command('stats').description(
      'Results, prepared images and triage verdicts apart (entries, bytes, oldest/newest), results by pattern and by provider/model, hit rate',
    ),
  )
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ visionpipe cache stats\n  $ visionpipe cache stats --state-dir .visionpipe --json\n  $ visionpipe cache stats --cache redis://cache.internal:6379 --json\n\nResults by pattern are keyed by the pattern fingerprint that `visionpipe pattern check FILE`\nprints (first 16 hex digits). `--cache memory` keeps nothing between runs: it shows an empty cache.',
    )
    .action(async (flags: StatsFlags) => {
      const { cacheStats } = await import('./actions/cache.js');
      await cacheStats(flags);
    });
}

function clearCommand(): Command {
  return storeOptions(new Command('clear').description('Remove cached results (and preprocessed images)'))
    .option('-p, --pattern <file>', 'only results for this pattern (its current schema and instructions)')
    .option('--older-than <duration>', `only entries written longer ago than this (${DURATION_FORMS})`)
    .option('--all', 'everything')
    .addHelpText(
      'after',
      '\nExamples:\n  $ visionpipe cache clear --pattern samples/patterns/invoice.json\n  $ visionpipe cache clear --older-than 7d\n  $ visionpipe cache clear --all\n\nChanging a pattern changes its fingerprint, so old entries are never served for the new\npattern; --pattern frees their space.',
    )
    .action(async (flags: ClearFlags) => {
      const { cacheClear } = await import('./actions/cache.js');
      await cacheClear(flags);
    });
}

export function cacheCommand(): Command {
  return new Command('cache')
    .description('Inspect or clear the result cache')
    .addHelpText(
      'after',
      '\nExamples:\n  $ visionpipe cache stats\n  $ visionpipe cache clear --older-than 7d\n  $ visionpipe cache stats --help',
    )
    .addCommand(statsCommand())
    .addCommand(clearCommand());
}
