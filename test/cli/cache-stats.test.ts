import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');
const INVOICE = path.join(ROOT, 'samples/patterns/invoice.json');

interface Part {
  entries: number;
  bytes: number;
  oldest: string | null;
  newest: string | null;
}
interface StatsReport {
  store: string;
  persistent: boolean;
  results: Part;
  images: Part;
  verdicts: Part;
  by_pattern: Array<Part & { fingerprint: string }>;
  by_model: Array<{ provider: string; model: string; entries: number; bytes: number }>;
  hits: number;
  misses: number;
  hit_rate: number | null;
  lookups: Record<string, { hits: number; misses: number; hit_rate: number }>;
}

describe('visionpipe cache stats', () => {
  // Two receipts run with the receipt pattern, then with the invoice pattern, in one state
  // folder (local OCR of each image in each run, the slow part): the first two tests below
  // read its stats before the second one clears a pattern.
  let dir: string;
  let empty: unknown;
  beforeAll(async () => {
    dir = await tempDir('visionpipe-cstats-');
    empty = JSON.parse((await runCli(['cache', 'stats', '--json'], { cwd: dir })).stdout);
    const images = ['receipt-002.png', 'receipt-004.jpg'].map((n) => path.join(ROOT, 'samples/images', n));
    for (const [pattern, out] of [
      [RECEIPT, 'r.jsonl'],
      [INVOICE, 'i.jsonl'],
    ] as const) {
      const run = await runCli(['run', ...images, '-p', pattern, '-o', out, '--no-progress'], { cwd: dir });
      expect(run.code, run.stderr).toBe(0);
    }
  }, 120_000);

  it('a file the stat memo knows, whose result is not cached yet, is one lookup, not two', async () => {
    // The first run taught the stat memo both files; the second (another pattern) missed on
    // the memo's key, read the files, and must not have counted the same key's miss again.
    const report = JSON.parse(
      (await runCli(['cache', 'stats', '--json'], { cwd: dir })).stdout,
    ) as StatsReport;
    expect(report.lookups.result).toEqual({ hits: 0, misses: 4, hit_rate: 0 });
  });

  it('reports results and prepared images apart, results by pattern fingerprint, with ages', async () => {
    expect(empty).toMatchObject({
      results: { entries: 0, bytes: 0, oldest: null },
      images: { entries: 0 },
      by_pattern: [],
      by_model: [],
    });
    const result = await runCli(['cache', 'stats', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as StatsReport;
    expect(report.persistent).toBe(true);
    expect(report.results.entries).toBe(4); // 2 images × 2 patterns
    expect(report.images.entries).toBeGreaterThanOrEqual(2);
    expect(report.images.bytes).toBeGreaterThan(report.results.bytes);
    expect(Date.parse(report.results.oldest!)).toBeLessThanOrEqual(Date.parse(report.results.newest!));
    const check = JSON.parse((await runCli(['pattern', 'check', RECEIPT, '--json'])).stdout) as {
      fingerprint: string;
    };
    const receipt = report.by_pattern.find((p) => check.fingerprint.startsWith(p.fingerprint));
    expect(receipt).toMatchObject({ entries: 2 });
    expect(report.by_pattern).toHaveLength(2);
    // Every result was written by the local engine: one provider/model row holding them all.
    expect(report.by_model).toEqual([
      { provider: 'local', model: expect.any(String), entries: 4, bytes: report.results.bytes },
    ]);

    const text = await runCli(['cache', 'stats'], { cwd: dir });
    expect(text.stdout).toMatch(/ {2}results +4 entries/);
    expect(text.stdout).toMatch(/ {2}prepared images +\d+ entries/);
    expect(text.stdout).toContain(`    ${check.fingerprint.slice(0, 16)}`);
    expect(text.stdout).toContain('  by model (results, remembered failures, triage verdicts):');
    expect(text.stdout).toMatch(new RegExp(`\\n {4}local / ${report.by_model[0]!.model}\\s+4 entries`));

    // Clearing one pattern leaves the other's results.
    const cleared = await runCli(['cache', 'clear', '--pattern', INVOICE], { cwd: dir });
    expect(cleared.code).toBe(0);
    const after = JSON.parse(
      (await runCli(['cache', 'stats', '--json'], { cwd: dir })).stdout,
    ) as StatsReport;
    expect(after.results.entries).toBe(2);
    expect(after.by_pattern).toHaveLength(1);
  }, 120_000);

  it("reports lookups by kind: the result hit rate is the runs' own, not mixed with failures or images", async () => {
    const dir = await tempDir('visionpipe-cstats-kinds-');
    const images = ['receipt-002.png', 'receipt-004.jpg'].map((n) => path.join(ROOT, 'samples/images', n));
    for (const extra of [[], ['--fresh']]) {
      const run = await runCli(['run', ...images, '-p', RECEIPT, '--no-progress', '--json', ...extra], {
        cwd: dir,
      });
      expect(run.code, run.stderr).toBe(0);
    }
    const report = JSON.parse(
      (await runCli(['cache', 'stats', '--json'], { cwd: dir })).stdout,
    ) as StatsReport;
    // First run: 2 result misses; second (--fresh, no resume): 2 result hits, as its summary says.
    expect(report.lookups.result).toEqual({ hits: 2, misses: 2, hit_rate: 0.5 });
    // The top-level rate is the result hit rate, not one mixed with images/verdicts lookups.
    expect(report.hit_rate).toBe(report.lookups.result?.hit_rate);
    expect(report.hits + report.misses).toBeGreaterThan(4);
    expect(report.lookups.failure?.hits ?? 0).toBe(0); // failure memory is asked apart, on result misses
    expect(report.lookups.unknown).toBeUndefined();
    const kinds = Object.values(report.lookups);
    expect(kinds.reduce((n, k) => n + k.hits + k.misses, 0)).toBe(report.hits + report.misses);

    // A cache written before kinds were counted: its lookups show as not recorded.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path.join(dir, '.visionpipe', 'cache.sqlite'));
    db.prepare("UPDATE counters SET value = value + 5 WHERE name = 'misses'").run();
    db.close();
    const older = JSON.parse(
      (await runCli(['cache', 'stats', '--json'], { cwd: dir })).stdout,
    ) as StatsReport;
    expect(older.lookups.unknown).toEqual({ hits: 0, misses: 5, hit_rate: 0 });
    expect(older.lookups.result).toEqual(report.lookups.result);
    const text = await runCli(['cache', 'stats'], { cwd: dir });
    expect(text.stdout).toMatch(/ {4}results +50\.0 % hits \(2 hits, 2 misses\)/);
    expect(text.stdout).toMatch(/ {4}not recorded +0\.0 % hits \(0 hits, 5 misses\)/);
  }, 120_000);

  it('--cache memory says it keeps nothing between runs', async () => {
    const result = await runCli(['cache', 'stats', '--cache', 'memory'], {
      cwd: await tempDir('visionpipe-cstats-'),
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('keeps nothing between runs');
  });
});
