/** `visionpipe cache stats|clear`: look into and invalidate the result cache. */
import path from 'node:path';
import { Command } from 'commander';
import {
  IMAGE_PREFIX,
  patternKeyPrefix,
  RESULT_PREFIX,
  VERDICT_PREFIX,
  verdictKeyPrefix,
} from '../cache/keys.js';
import { openCache } from '../cache/open-cache.js';
import { parseDuration } from '../config/durations.js';
import { VisionpipeError } from '../errors.js';
import { loadPattern } from '../patterns/index.js';
import { formatBytes } from './format.js';

interface StoreFlags {
  cache: string;
  stateDir: string;
}

const warnToStderr = (message: string) => process.stderr.write(`warning: ${message}\n`);

function storeOptions(command: Command): Command {
  return command
    .option('--cache <store>', 'which cache: sqlite, memory or a redis:// URL', 'sqlite')
    .option('--state-dir <dir>', 'where the SQLite cache lives', '.visionpipe');
}

function statsCommand(): Command {
  return storeOptions(new Command('stats').description('Entries, bytes and hit rate of the cache'))
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ visionpipe cache stats\n  $ visionpipe cache stats --cache redis://cache.internal:6379 --json',
    )
    .action(async (flags: StoreFlags & { json?: boolean }) => {
      const cache = await openCache({
        spec: flags.cache,
        stateDir: path.resolve(flags.stateDir),
        warn: warnToStderr,
      });
      try {
        const stats = await cache.results.stats();
        const lookups = stats.hits + stats.misses;
        const report = {
          store: cache.describe,
          ...stats,
          hit_rate: lookups ? Math.round((stats.hits / lookups) * 10_000) / 10_000 : 0,
        };
        if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else {
          process.stdout.write(
            `${report.store}\n  entries  ${stats.entries}\n  size     ${formatBytes(stats.bytes)}\n  hit rate ${(report.hit_rate * 100).toFixed(1)} % (${stats.hits} hits, ${stats.misses} misses)\n`,
          );
        }
      } finally {
        await cache.close();
      }
    });
}

function clearCommand(): Command {
  return storeOptions(new Command('clear').description('Remove cached results (and preprocessed images)'))
    .option('--pattern <file>', 'only results for this pattern (its current schema and instructions)')
    .option('--older-than <duration>', 'only entries written longer ago than this (e.g. 7d, 12h)')
    .option('--all', 'everything')
    .addHelpText(
      'after',
      '\nExamples:\n  $ visionpipe cache clear --pattern samples/patterns/invoice.json\n  $ visionpipe cache clear --older-than 7d\n  $ visionpipe cache clear --all\n\nChanging a pattern changes its fingerprint, so old entries are never served for the new\npattern; --pattern frees their space.',
    )
    .action(async (flags: StoreFlags & { pattern?: string; olderThan?: string; all?: boolean }) => {
      const chosen = [flags.pattern, flags.olderThan, flags.all].filter((f) => f !== undefined).length;
      if (chosen !== 1) {
        throw new VisionpipeError(
          'INVALID_OPTION',
          'cache clear needs exactly one of --pattern FILE, --older-than DURATION, --all',
          {
            option: 'clear',
          },
        );
      }
      const olderThanMs =
        flags.olderThan === undefined ? undefined : parseDuration(flags.olderThan, '--older-than');
      const pattern = flags.pattern ? await loadPattern(flags.pattern) : undefined;
      const cache = await openCache({
        spec: flags.cache,
        stateDir: path.resolve(flags.stateDir),
        warn: warnToStderr,
      });
      try {
        let removed = 0;
        // Triage verdicts live beside results: they go with them.
        if (pattern) {
          removed = await cache.results.clear({ prefix: patternKeyPrefix(pattern.fingerprint) });
          removed += await cache.results.clear({ prefix: verdictKeyPrefix(pattern.fingerprint) });
        } else {
          const age = olderThanMs === undefined ? {} : { olderThanMs };
          removed = await cache.results.clear({ prefix: RESULT_PREFIX, ...age });
          removed += await cache.results.clear({ prefix: VERDICT_PREFIX, ...age });
          removed += await cache.images.clear({ prefix: IMAGE_PREFIX, ...age });
        }
        process.stdout.write(`removed ${removed} entries from ${cache.describe}\n`);
      } finally {
        await cache.close();
      }
    });
}

export function cacheCommand(): Command {
  return new Command('cache')
    .description('Inspect or clear the result cache')
    .addCommand(statsCommand())
    .addCommand(clearCommand());
}
