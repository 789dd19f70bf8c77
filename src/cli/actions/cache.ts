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
import type { CacheStats, CacheStore, GroupStats, ModelStats } from '../../cache/store.js';
import { parseDuration } from '../../config/durations.js';
import { VisionpipeError } from '../../errors.js';
import { loadPattern } from '../../patterns/index.js';
import type { ClearFlags, StatsFlags } from '../cache.js';
import { formatBytes } from '../format.js';

const warnToStderr = (message: string) => process.stderr.write(`warning: ${message}\n`);

/** One kind of entry (or one pattern's results) in the report. */
interface Part {
  entries: number;
  bytes: number;
  /** ISO times of the oldest and newest entries; null when there are none. */
  oldest: string | null;
  newest: string | null;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function part(rows: readonly GroupStats[]): Part {
  const oldest = rows.length ? Math.min(...rows.map((r) => r.oldestMs)) : undefined;
  const newest = rows.length ? Math.max(...rows.map((r) => r.newestMs)) : undefined;
  return {
    entries: rows.reduce((n, r) => n + r.entries, 0),
    bytes: rows.reduce((n, r) => n + r.bytes, 0),
    oldest: iso(oldest),
    newest: iso(newest),
  };
}

/** Hit rate rounded to 4 digits; 0 without lookups. */
const rate = (hits: number, misses: number) =>
  hits + misses ? Math.round((hits / (hits + misses)) * 10_000) / 10_000 : 0;

/** The lookup kinds in the order they are shown, with their labels. */
const KINDS: ReadonlyArray<[kind: string, label: string]> = [
  ['result', 'results'],
  ['failure', 'remembered failures'],
  ['verdict', 'triage verdicts'],
  ['image', 'prepared images'],
];

/**
 * Lookups by kind of entry (a result, a remembered failure, a triage verdict, a prepared
 * image), each with its hit rate: a result hit rate to compare with the runs' summaries.
 * Lookups made before kinds were counted (older caches) are `unknown`.
 */
function lookupsByKind(
  stats: CacheStats,
): Record<string, { hits: number; misses: number; hit_rate: number }> {
  const out: Record<string, { hits: number; misses: number; hit_rate: number }> = {};
  let hits = 0;
  let misses = 0;
  for (const [kind, c] of Object.entries(stats.by_kind)) {
    out[kind] = { ...c, hit_rate: rate(c.hits, c.misses) };
    hits += c.hits;
    misses += c.misses;
  }
  const earlier = { hits: stats.hits - hits, misses: stats.misses - misses };
  if (earlier.hits > 0 || earlier.misses > 0)
    out.unknown = { ...earlier, hit_rate: rate(earlier.hits, earlier.misses) };
  return out;
}

/**
 * Results, remembered failures and triage verdicts by the provider and model that wrote
 * them (prepared images are the input's, not a model's: left out); entries written before
 * the cache kept them are provider and model `unknown`.
 */
async function byModel(store: CacheStore): Promise<ModelStats[]> {
  const rows = new Map<string, ModelStats>();
  for (const prefix of [RESULT_PREFIX, VERDICT_PREFIX])
    for (const row of (await store.byModel?.(prefix)) ?? []) {
      const id = `${row.provider}\0${row.model}`;
      const seen = rows.get(id);
      if (seen) {
        seen.entries += row.entries;
        seen.bytes += row.bytes;
      } else rows.set(id, { ...row });
    }
  return [...rows.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model),
  );
}

const PATTERN_PREFIX_LENGTH = patternKeyPrefix('0'.repeat(16)).length;

function partLine(label: string, p: Part): string {
  const when = p.oldest
    ? `  written ${p.oldest.slice(0, 16).replace('T', ' ')} … ${p.newest!.slice(0, 16).replace('T', ' ')} UTC`
    : '';
  return `  ${label.padEnd(17)}${String(p.entries).padStart(7)} ${p.entries === 1 ? 'entry  ' : 'entries'}  ${formatBytes(p.bytes).padStart(8)}${when}`;
}

/**
 * Entries, bytes and age of results, prepared images and triage verdicts apart, results by
 * pattern, and the store's lookup counters; as a table or JSON.
 */
export async function cacheStats(flags: StatsFlags): Promise<void> {
  const cache = await openCache({
    spec: flags.cache,
    stateDir: path.resolve(flags.stateDir),
    warn: warnToStderr,
  });
  try {
    const stats = await cache.results.stats();
    const groups = async (store: CacheStore, length: number, prefix: string) =>
      (await store.groups?.(length, prefix)) ?? [];
    const byPattern = await groups(cache.results, PATTERN_PREFIX_LENGTH, RESULT_PREFIX);
    const { by_kind: _kinds, ...totals } = stats;
    const report = {
      store: cache.describe,
      persistent: cache.persistent,
      results: part(await groups(cache.results, RESULT_PREFIX.length, RESULT_PREFIX)),
      images: part(await groups(cache.images, IMAGE_PREFIX.length, IMAGE_PREFIX)),
      verdicts: part(await groups(cache.results, VERDICT_PREFIX.length, VERDICT_PREFIX)),
      by_pattern: byPattern.map((row) => ({
        fingerprint: row.group.slice(RESULT_PREFIX.length, -1),
        ...part([row]),
      })),
      by_model: await byModel(cache.results),
      ...totals,
      // The result hit rate, the one the runs' summaries and the text table show (null before
      // any result lookup); `hits`/`misses` above count every kind, `lookups` each apart.
      hit_rate: lookupsByKind(stats).result?.hit_rate ?? null,
      lookups: lookupsByKind(stats),
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const lines = [report.store];
    if (!cache.persistent)
      lines.push(
        '  keeps nothing between runs: each run starts with an empty cache (use sqlite or redis:// to keep results)',
      );
    lines.push(
      partLine('results', report.results),
      partLine('prepared images', report.images),
      partLine('triage verdicts', report.verdicts),
    );
    if (report.by_pattern.length > 0) {
      lines.push('  results by pattern (fingerprint as `visionpipe pattern check FILE` prints it):');
      for (const row of report.by_pattern) lines.push(partLine(`  ${row.fingerprint}`, row));
    }
    if (report.by_model.length > 0) {
      lines.push('  by model (results, remembered failures, triage verdicts):');
      for (const row of report.by_model)
        lines.push(
          `    ${`${row.provider} / ${row.model}`.padEnd(30)}${String(row.entries).padStart(7)} ${row.entries === 1 ? 'entry  ' : 'entries'}  ${formatBytes(row.bytes).padStart(8)}`,
        );
    }
    lines.push('  lookups (all runs), by kind:');
    const labels = new Map(KINDS);
    const order = [
      ...KINDS.map(([kind]) => kind),
      ...Object.keys(report.lookups).filter((k) => !labels.has(k)),
    ];
    for (const kind of order) {
      const c = report.lookups[kind];
      if (!c) continue;
      const label = labels.get(kind) ?? (kind === 'unknown' ? 'not recorded' : kind);
      lines.push(
        `    ${label.padEnd(21)}${(c.hit_rate * 100).toFixed(1).padStart(5)} % hits (${c.hits} hits, ${c.misses} misses)`,
      );
    }
    if (order.every((kind) => !report.lookups[kind])) lines.push('    none yet');
    process.stdout.write(`${lines.join('\n')}\n`);
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
