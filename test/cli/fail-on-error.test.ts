/**
 * `run --fail-on-error` fails when the outputs are not usable, not only on error records:
 * an empty output (every field null) is a failure the user asked to be told about by the
 * exit code. Real CLI processes, the local engine (tesseract), a real corpus photo.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

const PARKING = path.join(ROOT, 'samples/patterns/parking.yaml');
const INVOICE = path.join(ROOT, 'samples/patterns/invoice.json');

describe('run --fail-on-error', () => {
  it('exits 1 when every output is empty (the summary says "empty 1", success 0 %)', async () => {
    const work = await tempDir('visionpipe-fail-on-error-');
    const args = ['run', corpus('car-plate1.jpg'), '-p', PARKING, '--cache', 'off', '--json'];
    const result = await runCli([...args, '--fail-on-error'], { cwd: work });
    const summary = JSON.parse(result.stdout) as { empty: number; errors: number; success_rate: number };
    expect(summary).toMatchObject({ empty: 1, errors: 0, success_rate: 0 });
    expect(result.code, result.stderr).toBe(1);
  }, 120_000);

  it('exits 0 when every output is usable', async () => {
    const work = await tempDir('visionpipe-fail-on-error-');
    const image = path.join(ROOT, 'samples/images/invoice-001.png');
    const result = await runCli(
      ['run', image, '-p', INVOICE, '--cache', 'off', '--json', '--fail-on-error'],
      {
        cwd: work,
      },
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: 1, empty: 0, errors: 0 });
    expect(result.code, result.stderr).toBe(0);
  }, 120_000);

  it('says in --help which outputs count', async () => {
    const help = await runCli(['run', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(
      /--fail-on-error exit with 1 when any output is not usable: an error, empty/,
    );
  });
});
