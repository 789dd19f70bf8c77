/**
 * The summary says what really happened: empty and low-confidence outputs are not
 * successes, rates count only images this run read, and a command whose inputs do not
 * exist is a usage error. Real CLI processes, the local engine, real images.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { Summary } from '../../src/runs/summary.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir, textImage } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');
const BLANKISH = path.join(ROOT, 'samples/images/gradient-001.png'); // no text: every field null
let folder: string;

async function records(file: string): Promise<RunRecord[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RunRecord);
}

beforeAll(async () => {
  folder = await tempDir('visionpipe-honest-');
  await writeFile(
    path.join(folder, 'cafe.png'),
    await textImage(
      [
        { text: 'HARBOUR CAFE', bold: true, size: 40 },
        '2024-05-02',
        'Coffee        3.50',
        'TOTAL        $3.50',
      ],
      { width: 900 },
    ),
  );
});

/** A record's output with every top-level field whose field_confidence is under `min` set to null. */
function nullUnder(record: RunRecord | undefined, min: number): Record<string, unknown> {
  const output = { ...(record?.output as Record<string, unknown>) };
  const confidences = (record?.field_confidence ?? {}) as Record<string, number>;
  for (const key of Object.keys(output)) if ((confidences[key] ?? 1) < min) output[key] = null;
  return output;
}

describe('an honest summary', () => {
  it('counts an output with every field null as empty, not ok, in text and --json', async () => {
    const work = await tempDir('visionpipe-work-');
    const args = ['run', path.join(folder, 'cafe.png'), BLANKISH, '-p', RECEIPT];
    const json = await runCli([...args, '--json'], { cwd: work });
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as Summary;
    expect(summary).toMatchObject({ total: 2, ok: 1, empty: 1, errors: 0, success_rate: 0.5, processed: 2 });
    const empty = (await records(path.join(work, 'results.jsonl'))).find((r) => r.input === BLANKISH);
    expect(empty?.status).toBe('ok'); // the record stays as the pipeline made it
    const text = await runCli([...args, '--fresh'], { cwd: work });
    expect(text.stdout).toMatch(/ok 1 · empty 1 \(all fields null\)/);
    expect(text.stdout).toContain('success 50.0 %');
  });

  it('counts outputs below the engine calibration apart, and --min-confidence makes them LOW_CONFIDENCE errors', async () => {
    const work = await tempDir('visionpipe-work-');
    const input = path.join(folder, 'cafe.png');
    const counted = await runCli(['run', input, '-p', RECEIPT, '--json'], { cwd: work });
    const base = JSON.parse(counted.stdout) as Summary;
    expect(base.min_confidence).toBeGreaterThan(0); // the local engine's calibration applies by default
    const [record] = await records(path.join(work, 'results.jsonl'));
    expect(record?.confidence).toBeGreaterThan(0);
    const above = Math.min(1, (record?.confidence ?? 0) + 0.01);
    const enforced = await runCli(
      ['run', input, '-p', RECEIPT, '--json', '--fresh', '--min-confidence', String(above)],
      { cwd: work },
    );
    const summary = JSON.parse(enforced.stdout) as Summary;
    expect(summary).toMatchObject({ ok: 0, errors: 1, errors_by_code: { LOW_CONFIDENCE: 1 } });
    const [failed] = await records(path.join(work, 'results.jsonl'));
    expect(failed).toMatchObject({ status: 'error', error: { code: 'LOW_CONFIDENCE' } });
    // What was read is kept to debug, but a field under the threshold is null (README).
    expect(failed?.output).toEqual(nullUnder(record, above));
    const passed = await runCli(
      ['run', input, '-p', RECEIPT, '--json', '--fresh', '--min-confidence', String(record?.confidence)],
      { cwd: work },
    );
    expect(JSON.parse(passed.stdout)).toMatchObject({ ok: 1, low_confidence: 0, errors: 0 });
    const bad = await runCli(['run', input, '-p', RECEIPT, '--min-confidence', '1.5'], { cwd: work });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--min-confidence');
  });

  it("a resumed record is judged by this run's --min-confidence: the file says what the summary counts, nothing read again", async () => {
    const work = await tempDir('visionpipe-work-');
    const input = path.join(folder, 'cafe.png');
    await runCli(['run', input, '-p', RECEIPT, '--json'], { cwd: work });
    const [record] = await records(path.join(work, 'results.jsonl'));
    expect(record?.status).toBe('ok');
    const above = Math.min(1, (record?.confidence ?? 0) + 0.01);
    const strict = await runCli(['run', input, '-p', RECEIPT, '--json', '--min-confidence', String(above)], {
      cwd: work,
    });
    const summary = JSON.parse(strict.stdout) as Summary;
    expect(summary).toMatchObject({
      resumed: 1,
      processed: 0,
      errors: 1,
      errors_by_code: { LOW_CONFIDENCE: 1 },
    });
    const written = await records(path.join(work, 'results.jsonl'));
    expect(written).toHaveLength(1); // the earlier line, judged again, replaced it
    expect(written[0]).toMatchObject({ status: 'error', error: { code: 'LOW_CONFIDENCE' } });
    expect(written[0]?.output).toEqual(nullUnder(record, above));
    expect(written[0]?.sha256).toBe(record?.sha256);
  });

  it('reports rates over images read in this run only; resumed records are apart', async () => {
    const work = await tempDir('visionpipe-work-');
    const args = ['run', path.join(folder, 'cafe.png'), '-p', RECEIPT, '--json'];
    const first = JSON.parse((await runCli(args, { cwd: work })).stdout) as Summary;
    expect(first.processed).toBe(1);
    expect(first.images_per_hour).toBeGreaterThan(0);
    const resumed = await runCli(
      args.filter((a) => a !== '--json'),
      { cwd: work },
    );
    expect(resumed.stdout).toMatch(/1 input: no image processed · 1 kept from an earlier run/);
    expect(resumed.stdout).not.toMatch(/images\/hour/);
    const again = JSON.parse((await runCli(args, { cwd: work })).stdout) as Summary;
    expect(again).toMatchObject({ total: 1, resumed: 1, processed: 0, images_per_hour: null });
  });

  it('exits 2 when no input exists, with NOT_FOUND records, also for a glob in a missing folder', async () => {
    const work = await tempDir('visionpipe-work-');
    const missing = await runCli(['run', 'nothere.jpg', 'nofolder/*.jpg', '-p', RECEIPT, '--json'], {
      cwd: work,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('NOT_FOUND');
    const written = await records(path.join(work, 'results.jsonl'));
    expect(written.map((r) => r.error?.code)).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(written[1]?.error?.message).toContain('nofolder');
    const summary = JSON.parse(missing.stdout) as Summary;
    expect(summary).toMatchObject({ processed: 0, images_per_hour: null });
    // Nothing that exists was attempted: no success rate, no alert on a usage error.
    expect(summary.success_rate).toBeNull();
    expect(summary.alerts.filter((a) => a.startsWith('success rate'))).toEqual([]);
    // One real input among missing ones is a batch with a failure, not a usage error.
    const mixed = await runCli(
      ['run', 'nothere.jpg', path.join(folder, 'cafe.png'), '-p', RECEIPT, '--fresh'],
      {
        cwd: work,
      },
    );
    expect(mixed.code).toBe(0);
    expect(mixed.stdout).toMatch(
      /2 inputs: 1 image processed in .* images\/hour\) · 1 not found \(NOT_FOUND: never read\)/,
    );
  });
});
