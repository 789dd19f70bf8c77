/** What `visionpipe cache stats|clear` do (flags and help: ../cache.ts). */
import path from 'node:path';
import {
  IMAGE_PREFIX,
  patternKeyPrefix,
  RESULT_PREFIX,
  VERDICT_PREFIX,
  verdictKeyPrefix,
} from '../../cache/keys.js';
import { openCache } from '../../cache/open-cache.js';
import { parseDuration } from '../../config/durations.js';
import { VisionpipeError } from '../../errors.js';
import { loadPattern } from '../../patterns/index.js';
import type { ClearFlags, StatsFlags } from '../cache.js';
import { formatBytes } from '../format.js';

const warnToStderr = (message: string) => process.stderr.write(`warning: ${message}\n`);

/** Entries, bytes and hit rate, as a table or JSON. */
export async function cacheStats(flags: StatsFlags): Promise<void> {
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
}

/** Removes the entries one of --pattern, --older-than, --all selects; says how many. */
export async function cacheClear(flags: ClearFlags): Promise<void> {
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
}
