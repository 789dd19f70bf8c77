/**
 * The summary names the failed inputs, where the rest are, the --format-dir folder, and a
 * next step for common codes. Real CLI processes over broken and missing inputs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { NAMED_FAILURES, nextStep } from '../../src/runs/failures.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');
let folder: string;

beforeAll(async () => {
  folder = await tempDir('visionpipe-failures-');
  // Eight inputs that fail before any OCR: quick, and more than the summary names.
  for (let i = 0; i < 8; i++) await writeFile(path.join(folder, `bad-${i}.jpg`), Buffer.alloc(0));
});

describe('failures in the summary', () => {
  it('names the first failed inputs and where all of them are', async () => {
    const work = await tempDir('visionpipe-work-');
    const failures = path.join(work, 'failures.jsonl');
    const result = await runCli(
      ['run', folder, '-p', RECEIPT, '--failures', failures, '--format-dir', 'out'],
      {
        cwd: work,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('failed (8):');
    const named = result.stdout.split('\n').filter((line) => /bad-\d\.jpg {2}EMPTY_INPUT: /.test(line));
    expect(named).toHaveLength(NAMED_FAILURES);
    expect(result.stdout).toContain(`… and ${8 - NAMED_FAILURES} more; all 8 in ${failures}`);
    expect(result.stdout).toContain('formatted outputs in out');
    const written = (await readFile(failures, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunRecord);
    expect(written).toHaveLength(8);
    expect(written.every((r) => r.status === 'error' && r.error?.code === 'EMPTY_INPUT')).toBe(true);
  });

  it('says where failures are without --failures, with a next step, also in --json', async () => {
    const work = await tempDir('visionpipe-work-');
    const args = ['run', path.join(folder, 'bad-0.jpg'), 'missing.jpg', '-p', RECEIPT];
    const text = await runCli(args, { cwd: work });
    expect(text.stdout).toContain(
      'all are in results.jsonl (status "error"); --failures FILE writes them apart',
    );
    expect(text.stdout).toMatch(/next \(NOT_FOUND\): check the paths and globs/);
    const json = await runCli([...args, '--json', '--fresh'], { cwd: work });
    const summary = JSON.parse(json.stdout) as { failures: { count: number; first: unknown[]; file: null } };
    expect(summary.failures).toMatchObject({ count: 2, file: null });
    expect(summary.failures.first).toHaveLength(2);
  });

  it('gives the next step for rate limits and the broken field and rule for schema mismatches', () => {
    expect(nextStep('RATE_LIMITED', undefined)).toContain('--rpm');
    const step = nextStep('SCHEMA_MISMATCH', {
      input: 'a.jpg',
      kind: 'error',
      code: 'SCHEMA_MISMATCH',
      message:
        'a.jpg: output does not conform to pattern "Receipt": /total_amount must be ≥ 0 (minimum 0, got -5); /date must match format "date" (and 2 more)',
    });
    expect(step).toContain('/total_amount must be ≥ 0 (minimum 0, got -5)');
    expect(step).not.toContain('/date');
    // A `; ` inside an issue's own note does not cut it (the parenthesis stays closed).
    const missing = nextStep('SCHEMA_MISMATCH', {
      input: 'r.png',
      kind: 'error',
      code: 'SCHEMA_MISMATCH',
      message:
        'r.png: output does not conform to pattern "Receipt": /date is missing (every field must be present; use null when a value is absent); /category is missing (every field must be present; use null when a value is absent)',
    });
    expect(missing).toContain(
      '(/date is missing (every field must be present; use null when a value is absent)): loosen',
    );
    // LOW_CONFIDENCE: lowering --min-confidence is suggested only when the user set it.
    expect(nextStep('LOW_CONFIDENCE', undefined, true)).toContain('lower --min-confidence');
    expect(nextStep('LOW_CONFIDENCE', undefined, false)).not.toContain('lower --min-confidence');
  });
});
