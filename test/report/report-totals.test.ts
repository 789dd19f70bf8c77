/**
 * `visionpipe report --json` gives the totals people check a run by: rate-limit refusals
 * and retries, costs rounded to the micro-dollar, images/hour over the time images were in
 * flight (not the gap between two runs: the run summary's definition, so both agree), and
 * the page of a document's page among the slowest. Real CLI processes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorRecord, type RunRecord } from '../../src/pipeline/record.js';
import { BusyTime } from '../../src/runs/busy-time.js';
import { RunSummary, type Summary } from '../../src/runs/summary.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

interface ReportJson {
  images: number;
  cost_usd: number;
  cost_per_image_usd: number;
  images_per_hour: number;
  throughput: { images: number; seconds: number };
  rate_limited: { count: number; wait_ms: number; held_ms: number | null; paced_ms: number | null };
  retries: number;
  retries_from: string;
  slowest: Array<{ input: string; page?: number; latency_ms: number }>;
}

/** An ok record of a worked-out image, finished at `finishedMs` after `latencyMs`. */
function record(input: string, finishedMs: number, latencyMs: number, extra: Partial<RunRecord> = {}) {
  const base = errorRecord(
    { input, pattern: 'Receipt', provider: 'openai', model: 'gpt-4.1-mini' },
    { code: 'X', message: '' },
  );
  return {
    ...base,
    status: 'ok',
    error: null,
    output: { total: 1 },
    sha256: input.padEnd(64, '0').slice(0, 64),
    cache: 'miss',
    attempts: 1,
    latency_ms: latencyMs,
    cost_usd: 0.1,
    ...extra,
    finished_at: new Date(finishedMs).toISOString(),
  };
}

describe('report --json totals', () => {
  it('counts rate limits and retries, rounds cost, rates over busy time only, pages among the slowest', async () => {
    const work = await tempDir('visionpipe-report-');
    const t0 = Date.parse('2026-11-30T08:00:00Z');
    // Run 1: two images over 10 s; an hour idle; run 2 (the resume): one image, 5 s.
    const lines = [
      record('a.jpg', t0 + 10_000, 10_000, { rate_limited: { count: 3, wait_ms: 4000 } }),
      record('b.jpg', t0 + 8000, 6000, { attempts: 3 }),
      record('doc.pdf', t0 + 3_615_000, 5000, { page: 2, pages: 3, cost_usd: 0.1 }),
    ];
    const results = path.join(work, 'results.jsonl');
    await writeFile(results, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const made = await runCli(['report', results, '--out', path.join(work, 'report.html'), '--json'], {
      cwd: work,
    });
    expect(made.code, made.stderr).toBe(0);
    const report = JSON.parse(made.stdout) as ReportJson;
    expect(report.rate_limited).toEqual({ count: 3, wait_ms: 4000, held_ms: null, paced_ms: null }); // no log: not in the records
    expect(report).toMatchObject({ retries: 2, retries_from: 'records' });
    expect(report.cost_usd).toBe(0.3); // not 0.30000000000000004
    expect(report.cost_per_image_usd).toBe(0.1);
    // 10 s + 5 s in flight, not the hour between the runs.
    expect(report.throughput).toMatchObject({ images: 3, seconds: 15 });
    expect(report.images_per_hour).toBe(720);
    expect(report.slowest[0]).toEqual({ input: 'a.jpg', latency_ms: 10_000 });
    expect(report.slowest.find((row) => row.input === 'doc.pdf')).toEqual({
      input: 'doc.pdf',
      page: 2,
      latency_ms: 5000,
    });
  });

  it("agrees with the run's own --json images/hour", async () => {
    const work = await tempDir('visionpipe-report-');
    const images = ['invoice-001.png', 'gradient-001.png', 'noise-001.jpg'].map((n) =>
      path.join(ROOT, 'samples/images', n),
    );
    const run = await runCli(
      ['run', ...images, '-p', path.join(ROOT, 'samples/patterns/invoice.json'), '--json'],
      {
        cwd: work,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as Summary;
    const made = await runCli(['report', 'results.jsonl', '--out', 'report.html', '--json'], { cwd: work });
    const report = JSON.parse(made.stdout) as ReportJson;
    expect(report.throughput.images).toBe(summary.throughput.images);
    // Same definition; the run's clock and the records' finished_at differ by a few ms.
    expect(Math.abs(report.throughput.seconds - summary.throughput.seconds)).toBeLessThan(0.1);
    expect((report.images_per_hour ?? 0) / (summary.images_per_hour ?? 1)).toBeCloseTo(1, 1);
  });

  it('titles a one-image report "1 image", not "1 images"', async () => {
    const work = await tempDir('visionpipe-report-');
    const results = path.join(work, 'results.jsonl');
    await writeFile(results, `${JSON.stringify(record('a.jpg', Date.now(), 1000))}\n`);
    const made = await runCli(['report', results, '--out', path.join(work, 'report.html')], { cwd: work });
    expect(made.code, made.stderr).toBe(0);
    const html = await readFile(path.join(work, 'report.html'), 'utf8');
    expect(html).toContain('<title>visionpipe run report — 1 image</title>');
  });

  it('the run summary counts the same busy time: a pause with nothing in flight is not in its rate', async () => {
    const summary = new RunSummary();
    const worked = (input: string) => record(input, Date.now(), 50) as unknown as RunRecord;
    summary.add(worked('a.jpg'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    summary.add(worked('b.jpg'));
    const seconds = summary.toJSON().throughput.seconds;
    expect(seconds).toBeGreaterThanOrEqual(0.09);
    expect(seconds).toBeLessThan(0.2); // two 50 ms stays, not the 400 ms between them
  });

  it('busy time merges overlapping stays and leaves idle gaps out, in any order', () => {
    const busy = new BusyTime();
    busy.add(0, 1000);
    busy.add(500, 2000);
    busy.add(10_000, 11_000);
    busy.add(3000, 4000); // finished late, started between two stays
    busy.add(1500, 3500); // bridges two
    expect(busy.seconds()).toBe(5);
  });
});
