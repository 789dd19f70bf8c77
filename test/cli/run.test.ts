import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import type { Summary } from '../../src/runs/summary.js';
import { ROOT, runCli } from '../support/cli.js';
import { corpus, tempDir, textImage } from '../support/images.js';

const RECEIPT_PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
let folder: string;

async function receipt(merchant: string, date: string, total: string): Promise<Buffer> {
  return textImage(
    [
      { text: merchant, bold: true, size: 40 },
      date,
      'Coffee        3.50',
      `TOTAL        ${total}`,
      'Category: Meals',
    ],
    {
      width: 900,
    },
  );
}

async function readRecords(file: string): Promise<RunRecord[]> {
  const text = await readFile(file, 'utf8');
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RunRecord);
}

beforeAll(async () => {
  folder = await tempDir('visionpipe-run-');
  await mkdir(path.join(folder, 'nested'), { recursive: true });
  await writeFile(path.join(folder, 'cafe.png'), await receipt('HARBOUR CAFE', '2024-05-02', '$3.50'));
  await writeFile(path.join(folder, 'nested/deli.png'), await receipt('CORNER DELI', '2024-06-11', '$7.25'));
  const good = await readFile(corpus('inventory1.jpg'));
  await writeFile(path.join(folder, 'broken.jpg'), good.subarray(0, 5000));
  await writeFile(path.join(folder, 'notes.txt'), 'not an image\n');
  await writeFile(path.join(folder, 'empty.jpg'), Buffer.alloc(0));
});

describe('visionpipe run', () => {
  it('writes one record per input with the contract fields, correct codes and a summary', async () => {
    const work = await tempDir('visionpipe-work-');
    const out = path.join(work, 'results.jsonl');
    const formatDir = path.join(work, 'csv');
    const result = await runCli(
      // notes.txt is passed over by the folder walk (skipped_files) and named on its own:
      // a file named explicitly gets its typed error record.
      [
        'run',
        folder,
        path.join(folder, 'notes.txt'),
        '--pattern',
        RECEIPT_PATTERN,
        '--out',
        out,
        '--format-dir',
        formatDir,
        '--json',
      ],
      {
        cwd: work,
      },
    );
    expect(result.code).toBe(0);
    const records = await readRecords(out);
    expect(records).toHaveLength(5);
    const byName = new Map(records.map((r) => [path.basename(r.input), r]));
    expect(byName.get('broken.jpg')?.error?.code).toBe('IMAGE_DECODE');
    expect(byName.get('notes.txt')?.error?.code).toBe('UNSUPPORTED_FORMAT');
    expect(byName.get('empty.jpg')?.error?.code).toBe('EMPTY_INPUT');
    const cafe = byName.get('cafe.png')!;
    expect(cafe).toMatchObject({
      status: 'ok',
      cache: 'miss',
      provider: 'local',
      model: 'tesseract-eng',
      attempts: 1,
      cost_usd: 0,
      error: null,
      output: { merchant_name: 'HARBOUR CAFE', date: '2024-05-02', total_amount: 3.5, category: 'Meals' },
    });
    expect(cafe.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(cafe.image).toMatchObject({
      width: 900,
      original_bytes: (await stat(path.join(folder, 'cafe.png'))).size,
    });
    expect(cafe.usage).toEqual({ input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: false });
    expect(cafe.latency_ms).toBeGreaterThan(0);
    // The local engine says how sure it is of each field; records without a read have none.
    expect(Object.keys(cafe.field_confidence ?? {}).sort()).toEqual(Object.keys(cafe.output ?? {}).sort());
    expect(byName.get('broken.jpg')).not.toHaveProperty('field_confidence');
    for (const record of records) {
      // field_confidence on ok records; input_bytes on inputs refused before any call (cache: null).
      const keys = Object.keys(record).filter(
        (k) =>
          !(k === 'field_confidence' && record.status === 'ok') &&
          !(k === 'input_bytes' && record.cache === null),
      );
      expect(keys.sort()).toEqual(
        [
          'input',
          'sha256',
          'status',
          'output',
          'error',
          'cache',
          'provider',
          'model',
          'latency_ms',
          'attempts',
          'rate_limited',
          'image',
          'usage',
          'cost_usd',
          'profile',
          'confidence',
          'reason',
          'duplicate_of',
          'pattern',
          'cascade',
          'finished_at',
          'rendered', // with --format-dir: the file the record was rendered to (null when not)
          'raw_output',
          'quality', // ok, empty or low_confidence on ok records; null on the others
        ].sort(),
      );
    }

    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary).toMatchObject({
      total: 5,
      ok: 2,
      errors: 3,
      skipped: 0,
      success_rate: 0.4,
      skipped_files: 1,
    });
    expect(summary.errors_by_code).toEqual({ IMAGE_DECODE: 1, UNSUPPORTED_FORMAT: 1, EMPTY_INPUT: 1 });
    expect(summary.latency_ms.p50).toBeGreaterThan(0);
    expect(summary.latency_ms.max).toBeGreaterThanOrEqual(summary.latency_ms.p95);
    expect(summary.alerts.join(' ')).toContain('success rate');
    expect(summary.bytes.original).toBeGreaterThan(0);

    // --format-dir: each output rendered as CSV, relative paths kept.
    const csv = await readFile(path.join(formatDir, 'nested/deli.csv'), 'utf8');
    expect(csv).toBe('merchant_name,date,total_amount,category\nCORNER DELI,2024-06-11,7.25,Meals\n');
  });

  it('exits 1 with --fail-on-error when an image failed, and prints a readable summary', async () => {
    const work = await tempDir('visionpipe-work-');
    const result = await runCli(
      [
        'run',
        path.join(folder, 'cafe.png'),
        path.join(folder, 'empty.jpg'),
        '-p',
        RECEIPT_PATTERN,
        '--fail-on-error',
      ],
      { cwd: work },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/2 inputs: .* with local\/tesseract-eng/);
    expect(result.stdout).toMatch(/ok 1 · empty 0 .* errors 1 \(EMPTY_INPUT 1\)/);
    expect(result.stdout).toMatch(/latency p50 .* p95 .* p99 .* max/);
    expect(result.stdout).toContain('⚠ success rate 50.0 %');
    expect((await readRecords(path.join(work, 'results.jsonl'))).length).toBe(2);
  });

  it('reads inputs from --list, skipping blank lines and comments', async () => {
    const work = await tempDir('visionpipe-work-');
    const list = path.join(work, 'inputs.txt');
    await writeFile(
      list,
      `# receipts\n${path.join(folder, 'cafe.png')}\n\n${path.join(folder, 'missing.png')}\n`,
    );
    const result = await runCli(['run', '--list', list, '-p', RECEIPT_PATTERN, '--json'], { cwd: work });
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary).toMatchObject({ total: 2, ok: 1, errors: 1, errors_by_code: { NOT_FOUND: 1 } });
  });

  it('refuses a bad pattern or flag with exit code 2 and a message naming it', async () => {
    const work = await tempDir('visionpipe-work-');
    const badPattern = path.join(work, 'bad.yaml');
    await writeFile(badPattern, 'name: x\ninstructions: y\nformat: pdf\n');
    const pattern = await runCli(['run', folder, '-p', badPattern], { cwd: work });
    expect(pattern.code).toBe(2);
    expect(pattern.stderr).toContain('format');
    const provider = await runCli(['run', folder, '-p', RECEIPT_PATTERN, '--provider', 'nope'], {
      cwd: work,
    });
    expect(provider.code).toBe(2);
    expect(provider.stderr).toContain('provider "nope"');
    const none = await runCli(['run', '-p', RECEIPT_PATTERN], { cwd: work });
    expect(none.code).toBe(2);
    expect(await readdir(work)).toEqual(['bad.yaml']); // nothing written on a usage error
  });

  it('on Ctrl-C finishes images in flight, keeps a valid JSONL and prints the summary', async () => {
    const many = await tempDir('visionpipe-many-');
    // Distinct images: identical ones would be deduplicated and finish at once.
    for (let i = 0; i < 40; i++) {
      const image = await receipt('LONG RUN MART', '2024-01-01', `$${i}.00`);
      await writeFile(path.join(many, `r${String(i).padStart(2, '0')}.png`), image);
    }
    const work = await tempDir('visionpipe-work-');
    const out = path.join(work, 'results.jsonl');
    const result = await runCli(['run', many, '-p', RECEIPT_PATTERN, '--out', out, '--concurrency', '2'], {
      cwd: work,
      onSpawn: (child) => {
        const poll = setInterval(async () => {
          const size = await stat(out).then(
            (s) => s.size,
            () => 0,
          );
          if (size > 0) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 50);
      },
    });
    expect(result, result.stderr + result.stdout).toMatchObject({ code: 130, signal: null });
    expect(result.stderr).toContain('Stopping');
    expect(result.stdout).toContain('stopped early');
    const records = await readRecords(out); // throws on a partial line
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThan(40);
    expect(records.every((r) => r.status === 'ok')).toBe(true);
  });

  it('documents its options with examples in --help', async () => {
    const help = await runCli(['run', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--pattern',
      '--provider',
      '--concurrency',
      '--out',
      '--format-dir',
      '--list',
      '--json',
      '--fail-on-error',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });
});
