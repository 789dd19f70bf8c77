/**
 * `--triage local` lets a page through only on enough evidence of the pattern's kind: a
 * lone "Date" label on a sparse photo (a VIN sticker's manufacture date) does not make it a
 * receipt, while a receipt still passes. Real CLI processes, real tesseract, a real corpus
 * photo (vin3.jpg) and a synthetic sample receipt (the corpus has no receipt).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, readRecords, runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');

describe('local triage evidence', () => {
  it('skips a VIN sticker for a receipt pattern and lets a receipt through', async () => {
    const work = await tempDir('visionpipe-triage-evidence-');
    const vin = corpus('vin3.jpg');
    const receipt = path.join(ROOT, 'samples/images/receipt-002.png');
    const result = await runCli(['run', vin, receipt, '-p', RECEIPT, '--triage', 'local', '--cache', 'off'], {
      cwd: work,
    });
    expect(result.code, result.stderr).toBe(0);
    const records = new Map((await readRecords(path.join(work, 'results.jsonl'))).map((r) => [r.input, r]));
    expect(records.get(vin)).toMatchObject({ status: 'skipped' });
    expect(records.get(vin)?.cascade?.triage).toMatchObject({ relevant: false });
    expect(records.get(receipt)?.status).toBe('ok');
  }, 180_000);
});
