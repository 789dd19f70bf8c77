/**
 * `report` says what the run said (issue 13): a local triage verdict is no provider call,
 * so records of a `--triage local` run count only the extraction in `attempts` and
 * `report` finds no retries where the run had none; a run that attempted nothing (only a
 * missing input) has no success rate in `report` either, one record is "1 record", and it is
 * "1 not found" as the run says, not "0 processed".
 * Real CLI processes, real simulator counting its calls, real local triage (OCR) on the
 * bundled samples and a real corpus invoice.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { ROOT, readRecords, runCli, runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import { startCompatibleServer, writeSimplePattern } from '../support/openai-compatible.js';

const INPUTS = [
  path.join(ROOT, 'samples/images/receipt-002.png'),
  path.join(ROOT, 'samples/images/receipt-004.jpg'),
  path.join(ROOT, 'samples/images/photo-001.jpg'),
  corpus('invoice1.jpg'),
];
const RECEIPT_PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
let sim: Simulator;
let work: string;

beforeAll(async () => {
  work = await tempDir('visionpipe-report-agrees-');
  sim = await startSimulator({
    answer: () => ({ merchant_name: 'Shop', date: '2024-01-02', total_amount: 12.5, category: 'groceries' }),
  });
});

afterAll(async () => {
  await sim?.close();
});

const modelCalls = () => sim.stats.requests['openai POST /v1/chat/completions'] ?? 0;

interface ReportJson {
  images: number;
  attempts: number;
  retries: number;
  success_rate: number | null;
  images_per_hour: number | null;
}

describe('report agrees with the run', () => {
  it('--triage local: attempts count model calls only; report has the run’s 0 retries', async () => {
    const out = path.join(work, 'triaged.jsonl');
    const run = await runOpenAiCompatible(INPUTS, {
      pattern: RECEIPT_PATTERN,
      baseUrl: sim.baseUrls.openai,
      out,
      extra: ['--triage', 'local', '--json', '--no-progress'],
      cwd: work,
    });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { retries: number };
    expect(summary.retries).toBe(0);
    const records = await readRecords(out);
    expect(records).toHaveLength(INPUTS.length);
    // Each extraction answered once; the local verdict adds no attempt.
    for (const r of records) expect(r.attempts, r.input).toBe(r.status === 'skipped' ? 0 : 1);
    expect(records.reduce((n, r) => n + r.attempts, 0)).toBe(modelCalls());

    const report = await runCli(['report', out, '--out', path.join(work, 'triaged.html'), '--json'], {
      cwd: work,
    });
    expect(report.code, report.stderr).toBe(0);
    const h = JSON.parse(report.stdout) as ReportJson;
    expect(h.retries).toBe(summary.retries);
    expect(h.attempts).toBe(modelCalls());
    const text = await runCli(['report', out, '--out', path.join(work, 'triaged.html')], { cwd: work });
    expect(text.stdout).not.toMatch(/retr(y|ies) after errors/);
  });

  it('a missing input only: report gives no success rate and says "1 record"', async () => {
    const out = path.join(work, 'missing.jsonl');
    const run = await runOpenAiCompatible(path.join(work, 'nothere.jpg'), {
      pattern: RECEIPT_PATTERN,
      baseUrl: sim.baseUrls.openai,
      out,
      extra: ['--json', '--no-progress'],
      cwd: work,
    });
    expect(run.code).toBe(2);
    const html = path.join(work, 'missing.html');
    const json = await runCli(['report', out, '--out', html, '--json'], { cwd: work });
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as ReportJson).success_rate).toBeNull();
    const text = await runCli(['report', out, '--out', html], { cwd: work });
    expect(text.stdout).toMatch(/: 1 record, /);
    // As the run names it (summary-print.ts): not found, never read; not "0 processed".
    expect(text.stdout).toContain('no image processed · 1 not found (NOT_FOUND: never read)');
    expect(text.stdout).not.toMatch(/\b0 processed/);
    expect(text.stdout).toMatch(/success – \(nothing attempted\)/);
  });

  it('summary wording: duplicates are not "from cache"; a retry without any wait shows no wait figures', async () => {
    // The first call fails (500) and is retried at once; every other call answers.
    const server = await startCompatibleServer((_call, n) =>
      n === 1 ? { status: 500 } : '{"vendor_name": "Shop", "total": 3}',
    );
    try {
      const twin = path.join(work, 'twin.jpg');
      await copyFile(corpus('invoice1.jpg'), twin);
      const run = await runOpenAiCompatible([corpus('invoice1.jpg'), twin], {
        pattern: await writeSimplePattern(work),
        baseUrl: server.baseUrl,
        out: path.join(work, 'wording.jsonl'),
        // Both at once: the twin waits for the first one's answer (a duplicate, no lookup hit).
        extra: ['--no-progress', '--cache', 'memory', '--concurrency', '2'],
        cwd: work,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/ · 1 from duplicates /);
      expect(run.stdout).toMatch(/cache 0 hits · 1 misses · 1 dedup/);
      expect(run.stdout).toMatch(
        /^ {2}rate limit: no wait · 0 × refused \(429\/overloaded\) · 1 retry after errors$/m,
      );
      expect(run.stdout).not.toMatch(/held \d+ ms/);
    } finally {
      await server.close();
    }
  });

  it('a file that is not an image is no cache lookup, in the run and in report', async () => {
    const out = path.join(work, 'license.jsonl');
    const run = await runOpenAiCompatible([corpus('LICENSE'), corpus('invoice2.jpg')], {
      pattern: RECEIPT_PATTERN,
      baseUrl: sim.baseUrls.openai,
      out,
      extra: ['--no-progress', '--cache', 'memory'],
      cwd: work,
    });
    expect(run.stdout).toContain('UNSUPPORTED_FORMAT');
    expect(run.stdout).toMatch(/^ {2}cache 0 hits · 1 misses · 0 dedup$/m);
    const report = await runCli(['report', out, '--out', path.join(work, 'license.html'), '--json'], {
      cwd: work,
    });
    expect((JSON.parse(report.stdout) as { cache: { misses: number } }).cache.misses).toBe(1);
  });
});
