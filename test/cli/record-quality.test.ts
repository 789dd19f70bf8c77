/**
 * An `ok` record says what it holds (`quality`: ok, empty, low_confidence), and the inputs
 * whose output is not worth having are failures: listed by `--failures` with their kind,
 * named in the summary's failed section. Real CLI processes, the local engine, real images.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorRecord, type RunRecord } from '../../src/pipeline/record.js';
import { FailureLog } from '../../src/runs/failures.js';
import type { Summary } from '../../src/runs/summary.js';
import { ROOT, readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/invoice.json');
const BLANKISH = path.join(ROOT, 'samples/images/gradient-001.png'); // no text: every field null
const invoice = path.join(ROOT, 'samples/images/invoice-001.png'); // a clean invoice: read

describe('what an ok record holds', () => {
  it('marks an all-null output `quality: "empty"`, lists it in --failures by kind and in the summary', async () => {
    const work = await tempDir('visionpipe-work-');
    const failures = path.join(work, 'failures.jsonl');
    const args = ['run', invoice, BLANKISH, '-p', RECEIPT, '--failures', failures];
    const text = await runCli(args, { cwd: work });
    expect(text.code, text.stderr).toBe(0);
    const records = await readRecords(path.join(work, 'results.jsonl'));
    const byInput = new Map(records.map((r) => [r.input, r]));
    // status stays ok for status readers; quality says what it holds.
    expect(byInput.get(BLANKISH)).toMatchObject({ status: 'ok', quality: 'empty' });
    expect(byInput.get(invoice)).toMatchObject({ status: 'ok', quality: 'ok' });
    const listed = (await readFile(failures, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunRecord & { kind: string });
    expect(listed.map((r) => [r.kind, r.input])).toEqual([['empty', BLANKISH]]);
    expect(text.stdout).toContain('not usable (1: 1 empty):');
    expect(text.stdout).toContain(`${BLANKISH}  EMPTY_OUTPUT: every field is null`);
    expect(text.stdout).toContain(`all 1 in ${failures}`);
    expect(text.stdout).toMatch(/next \(EMPTY_OUTPUT\): nothing was read/);

    const json = await runCli([...args, '--fresh', '--json'], { cwd: work });
    const summary = JSON.parse(json.stdout) as Summary & { failures: { count: number; by_kind: unknown } };
    expect(summary).toMatchObject({ ok: 1, empty: 1 });
    expect(summary.failures).toMatchObject({ count: 1, by_kind: { error: 0, empty: 1, low_confidence: 0 } });
    // Without --failures the summary says how to find them in the results.
    const bare = await runCli(['run', invoice, BLANKISH, '-p', RECEIPT, '--fresh'], { cwd: work });
    expect(bare.stdout).toContain('all are in results.jsonl (quality "empty")');
  });

  it('a resumed run still lists the kept empty records in --failures and the failed section', async () => {
    const work = await tempDir('visionpipe-work-');
    const failures = path.join(work, 'failures.jsonl');
    const args = ['run', invoice, BLANKISH, '-p', RECEIPT, '--failures', failures];
    expect((await runCli(args, { cwd: work })).code).toBe(0);
    const again = await runCli(args, { cwd: work }); // resumes: both records kept
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('not usable (1: 1 empty):');
    expect(again.stdout).toContain(`all 1 in ${failures}`);
    const listed = (await readFile(failures, 'utf8')).trim().split('\n');
    expect(listed.map((line) => (JSON.parse(line) as RunRecord & { kind: string }).input)).toEqual([
      BLANKISH,
    ]);
  });

  it('lists low-confidence ok records and errors by kind; skipped and good ones are not failures', async () => {
    const work = await tempDir('visionpipe-work-');
    const file = path.join(work, 'failures.jsonl');
    const log = await FailureLog.open(file);
    const base = errorRecord(
      { input: 'x.png', pattern: 'Receipt', provider: 'local', model: 'tesseract' },
      { code: 'X', message: '' },
    );
    const ok = { ...base, status: 'ok' as const, error: null, output: { total: 1 } };
    log.add({ ...ok, input: 'good.png', quality: 'ok' });
    log.add({ ...ok, input: 'weak.png', quality: 'low_confidence', confidence: 0.2 });
    log.add({ ...base, input: 'broken.png', error: { code: 'IMAGE_DECODE', message: 'broken.png: bad' } });
    log.add({ ...ok, input: 'skipped.png', status: 'skipped', quality: null });
    await log.close();
    const report = log.report();
    expect(report.count).toBe(2);
    expect(report.by_kind).toEqual({ error: 1, empty: 0, low_confidence: 1 });
    expect(report.first.map((f) => [f.input, f.kind, f.code])).toEqual([
      ['weak.png', 'low_confidence', 'LOW_CONFIDENCE'],
      ['broken.png', 'error', 'IMAGE_DECODE'],
    ]);
    expect(report.first[0]?.message).toContain('confidence 0.2');
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { kind: string }).kind)).toEqual([
      'low_confidence',
      'error',
    ]);
  });
});
