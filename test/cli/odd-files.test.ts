/**
 * Odd files in a batch, through the real CLI: 0 bytes, 1–3 bytes, and the first 8, 16 and
 * 100 bytes of a real JPEG, PNG, PDF, TIFF and HEIC, each under its own extension and under
 * another one. `run`, `estimate` and `optimize` give each a typed error naming it (never
 * INTERNAL), the good input of the batch is ok, the exit code is that of any error record,
 * and `--json` output stays JSON (libheif prints to stdout on a truncated HEIC).
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, readRecords, runCli } from '../support/cli.js';
import { HEIC_SAMPLE, makePdf } from '../support/documents.js';
import { corpus, tempDir } from '../support/images.js';

const PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
const TYPED = /^(EMPTY_INPUT|UNSUPPORTED_FORMAT|IMAGE_DECODE|DOCUMENT_DAMAGED)$/;
let folder: string;
const odd: string[] = [];

beforeAll(async () => {
  folder = await tempDir('visionpipe-odd-');
  const jpeg = await readFile(corpus('invoice1.jpg'));
  const sources: Record<string, Buffer> = {
    jpg: jpeg,
    png: await readFile(corpus('document-classification1.png')),
    pdf: await makePdf([{ lines: ['Invoice 7', 'Total 12.50'] }]),
    tif: await sharp(jpeg).resize(200).tiff().toBuffer(),
    heic: await readFile(HEIC_SAMPLE),
  };
  const write = async (name: string, bytes: Buffer | string) => {
    await writeFile(path.join(folder, name), bytes);
    odd.push(name);
  };
  await write('tiny.jpg', 'hi\n');
  // A text file named as an image (a .txt in a folder is skipped_files: folder-skipped-files.test.ts).
  await write('tiny-text.jpg', 'hi\n');
  await write('zero.png', '');
  await write('one.pdf', '%');
  await write('two.jpg', jpeg.subarray(0, 2));
  await write('three.png', sources.png!.subarray(0, 3));
  for (const [ext, bytes] of Object.entries(sources)) {
    for (const n of [8, 16, 100]) {
      await write(`head${n}-${ext}.${ext}`, bytes.subarray(0, n));
      await write(`head${n}-${ext}-as.${ext === 'jpg' ? 'png' : 'jpg'}`, bytes.subarray(0, n));
    }
  }
  await copyFile(path.join(ROOT, 'samples/images/receipt-004.jpg'), path.join(folder, 'good.jpg'));
});

function expectTyped(
  entries: Array<{ name: string; code: string | undefined; message: string | undefined }>,
) {
  const wrong = entries.filter(
    (e) => odd.includes(e.name) && !(TYPED.test(e.code ?? '') && e.message?.includes(e.name)),
  );
  expect(wrong).toEqual([]);
  expect(
    entries
      .filter((e) => odd.includes(e.name))
      .map((e) => e.name)
      .sort(),
  ).toEqual([...odd].sort());
}

describe('odd files in a batch', () => {
  it('run: a typed error record naming each, the good one ok, JSON summary intact, exit codes as for any error', async () => {
    const work = await tempDir('visionpipe-odd-run-');
    const out = path.join(work, 'results.jsonl');
    const result = await runCli(['run', folder, '-p', PATTERN, '--out', out, '--json'], { cwd: work });
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { errors: number; ok: number };
    expect(summary).toMatchObject({ ok: 1, errors: odd.length });
    const records = await readRecords(out);
    expectTyped(
      records.map((r) => ({ name: path.basename(r.input), code: r.error?.code, message: r.error?.message })),
    );
    expect(records.find((r) => path.basename(r.input) === 'good.jpg')?.status).toBe('ok');
    // Same bytes under two names: each record names its own input, also when the failure is
    // remembered from the first run (the second run below reads it from the cache).
    const again = await runCli(['run', folder, '-p', PATTERN, '--out', out, '--fail-on-error', '--fresh'], {
      cwd: work,
    });
    expect(again.code).toBe(1);
    const recalled = await readRecords(out);
    expectTyped(
      recalled.map((r) => ({ name: path.basename(r.input), code: r.error?.code, message: r.error?.message })),
    );
    expect(recalled.some((r) => r.error?.message.includes('remembered from'))).toBe(true);
    expect(result.stderr + again.stderr).not.toMatch(/INTERNAL|Could not parse HEIF/);
  });

  it('estimate and optimize: the same typed errors, JSON on stdout', async () => {
    const estimate = await runCli(
      [
        'estimate',
        folder,
        '-p',
        PATTERN,
        '--provider',
        'openai',
        '--model',
        'gpt-4o-mini',
        '--cache',
        'off',
        '--json',
      ],
      { env: { OPENAI_API_KEY: 'sk-test-unused' } },
    );
    expect(estimate.code, estimate.stderr).toBe(0);
    const estimated = JSON.parse(estimate.stdout) as {
      images: Array<{ input: string; status: string; error: { code: string; message: string } | null }>;
    };
    expectTyped(
      estimated.images.map((i) => ({
        name: path.basename(i.input),
        code: i.error?.code,
        message: i.error?.message,
      })),
    );
    expect(estimated.images.find((i) => path.basename(i.input) === 'good.jpg')?.status).toBe('send');

    const outDir = await tempDir('visionpipe-odd-opt-');
    const optimize = await runCli(['optimize', folder, '--out-dir', outDir, '--json']);
    expect(optimize.code).toBe(1); // optimize exits 1 when any file failed
    const optimized = JSON.parse(optimize.stdout) as {
      files: Array<{ input: string; status: string; error: { code: string; message: string } | null }>;
    };
    expectTyped(
      optimized.files.map((f) => ({
        name: path.basename(f.input),
        code: f.error?.code,
        message: f.error?.message,
      })),
    );
    expect(optimized.files.find((f) => path.basename(f.input) === 'good.jpg')?.status).toBe('ok');
    expect(estimate.stderr + optimize.stderr).not.toMatch(/INTERNAL|Could not parse HEIF/);
  });
});
