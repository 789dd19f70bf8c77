/**
 * A folder of images with one file that is not an image (issue 13): the text summary, its
 * `--json` and `report` use one definition. The non-image file is an input read and refused
 * (`refused`, "1 read and refused"), not an image processed: `processed` is the images whose
 * answer the run got, the number the text's "N images processed" says.
 * Real CLI, loopback OpenAI-compatible server, real corpus images.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { runCli, runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

const IMAGES = ['invoice4.jpg', 'invoice5.jpg', 'car-plate2.jpg'];
let server: CompatibleServer;
let work: string;
let folder: string;

beforeAll(async () => {
  server = await startCompatibleServer('{"vendor_name": "Shop", "total": 3}');
  work = await tempDir('visionpipe-refused-input-');
  folder = path.join(work, 'inputs');
  await mkdir(folder);
  for (const name of IMAGES) await copyFile(corpus(name), path.join(folder, name));
  // An image extension on a text file: read, then refused (not an image).
  await writeFile(path.join(folder, 'notes.jpg'), 'meeting notes, not a picture\n'.repeat(20));
});

afterAll(async () => {
  await server?.close();
});

describe('a folder with a file that is not an image', () => {
  it('text, --json and report count the images processed and the refused file alike', async () => {
    const pattern = await writeSimplePattern(work);
    const run = (out: string, extra: string[]) =>
      runOpenAiCompatible(folder, {
        pattern,
        baseUrl: server.baseUrl,
        out: path.join(work, out),
        extra: ['--cache', 'off', '--no-progress', ...extra],
        cwd: work,
      });
    const json = await run('json.jsonl', ['--json']);
    const summary = JSON.parse(json.stdout.trim().split('\n').at(-1) ?? '') as Summary;
    expect(summary).toMatchObject({ total: IMAGES.length + 1, processed: IMAGES.length, refused: 1 });
    expect(summary.throughput.images).toBe(summary.processed);

    const text = await run('text.jsonl', []);
    expect(text.stdout).toMatch(
      new RegExp(
        `: ${IMAGES.length} images processed in .* · 1 read and refused \\(not a usable image or document\\)`,
      ),
    );

    const report = await runCli(
      ['report', path.join(work, 'text.jsonl'), '--out', path.join(work, 'r.html'), '--json'],
      {
        cwd: work,
      },
    );
    expect(report.code, report.stderr).toBe(0);
    const headline = JSON.parse(report.stdout) as {
      processed: number;
      refused: number;
      wall_s: number;
      processing_s: number;
      throughput: { seconds: number };
    };
    expect(headline).toMatchObject({ processed: IMAGES.length, refused: 1 });
    // Wall time (first start → last end) and processing time are two fields, not one under the other's name.
    expect(headline.processing_s).toBe(headline.throughput.seconds);
    expect(headline.wall_s + 0.01).toBeGreaterThanOrEqual(headline.processing_s);
    const reportText = await runCli(
      ['report', path.join(work, 'text.jsonl'), '--out', path.join(work, 'r.html')],
      {
        cwd: work,
      },
    );
    expect(reportText.stdout).toContain(`${IMAGES.length} images processed`);
    expect(reportText.stdout).toContain('1 read and refused (not a usable image or document)');
  }, 120_000);

  it('good images every call of which a 429 refused are errors, not "read and refused"', async () => {
    const limited = await startCompatibleServer(() => ({
      status: 429,
      headers: { 'retry-after': '3' },
      errorBody: { error: { message: 'Rate limit reached', type: 'rate_limit_error' } },
    }));
    try {
      const dir = path.join(work, 'limited');
      await mkdir(dir);
      const inputs = ['invoice1.jpg', 'invoice2.jpg'].map((n) => corpus(n));
      const run = await runOpenAiCompatible(inputs, {
        pattern: await writeSimplePattern(work),
        baseUrl: limited.baseUrl,
        out: path.join(dir, 'r.jsonl'),
        extra: ['--cache', 'off', '--no-progress', '--max-retry-wait', '4s', '--json'],
        cwd: dir,
      });
      const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as Summary;
      expect(summary.errors_by_code.RATE_LIMITED).toBe(2);
      expect(summary).toMatchObject({ processed: 0, refused: 0, unanswered: 2 });
      const text = await runOpenAiCompatible(inputs, {
        pattern: await writeSimplePattern(work),
        baseUrl: limited.baseUrl,
        out: path.join(dir, 't.jsonl'),
        extra: ['--cache', 'off', '--no-progress', '--max-retry-wait', '4s'],
        cwd: dir,
      });
      expect(text.stdout).not.toContain('read and refused');
      expect(text.stdout).toContain('2 read, no answer (errors below)');
      const report = await runCli(
        ['report', path.join(dir, 't.jsonl'), '--out', path.join(dir, 'r.html'), '--json'],
        { cwd: dir },
      );
      expect(JSON.parse(report.stdout)).toMatchObject({ refused: 0, unanswered: 2 });
    } finally {
      await limited.close();
    }
  }, 120_000);

  it('a run of only refused files does not say "nothing read"', async () => {
    const run = await runOpenAiCompatible(path.join(folder, 'notes.jpg'), {
      pattern: await writeSimplePattern(work),
      baseUrl: server.baseUrl,
      out: path.join(work, 'only-refused.jsonl'),
      extra: ['--cache', 'off', '--no-progress'],
      cwd: work,
    });
    expect(run.stdout).toContain('1 read and refused');
    expect(run.stdout).not.toContain('nothing read');
    expect(run.stdout).toContain('bytes read locally only');
  }, 120_000);
});
