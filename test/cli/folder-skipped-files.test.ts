/**
 * A folder expands to its images and documents only (issue 13): `notes.txt`, `data.json`
 * and `.DS_Store` beside two real images are passed over, not turned into error records,
 * and `run`, `estimate` and `optimize` each say how many (text and `--json`); a
 * `data.json` named explicitly still gets its typed error record. Real CLI, loopback
 * OpenAI-compatible server, real corpus images by path (linked into the folder).
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { openAiFlags, readRecords, runCli, runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

const SKIPPED = 'files skipped (not images or documents)';
let server: CompatibleServer;
let work: string;
let folder: string;
let pattern: string;

beforeAll(async () => {
  server = await startCompatibleServer('{"vendor_name": "Shop", "total": 3}');
  work = await tempDir('visionpipe-skipped-files-');
  folder = path.join(work, 'scans');
  await mkdir(path.join(folder, 'sub'), { recursive: true });
  await symlink(corpus('invoice1.jpg'), path.join(folder, 'invoice1.jpg'));
  await symlink(corpus('invoice2.jpg'), path.join(folder, 'sub', 'invoice2.jpg'));
  await writeFile(path.join(folder, 'notes.txt'), 'meeting notes\n');
  await writeFile(path.join(folder, 'sub', 'data.json'), '{"a": 1}\n');
  await writeFile(path.join(folder, '.DS_Store'), Buffer.alloc(64, 1));
  pattern = await writeSimplePattern(work);
});

afterAll(async () => {
  await server?.close();
});

const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '');

describe('a folder with files that are not images', () => {
  it('run passes them over and counts them, text and --json; named explicitly, one is an error record', async () => {
    const common = { pattern, baseUrl: server.baseUrl, cwd: work };
    const json = await runOpenAiCompatible(folder, {
      ...common,
      out: path.join(work, 'r.jsonl'),
      extra: ['--no-progress', '--json'],
    });
    const summary = last(json.stdout) as Summary;
    const records = await readRecords(path.join(work, 'r.jsonl'));
    expect(records.map((r) => path.basename(r.input)).sort()).toEqual(
      ['invoice1.jpg', 'invoice2.jpg'].sort(),
    );
    expect(summary).toMatchObject({ total: 2, skipped_files: 3, errors: 0 });

    const text = await runOpenAiCompatible(folder, {
      ...common,
      out: path.join(work, 't.jsonl'),
      extra: ['--no-progress'],
    });
    expect(text.stdout).toContain(`3 ${SKIPPED}`);

    const named = await runOpenAiCompatible(path.join(folder, 'sub', 'data.json'), {
      ...common,
      out: path.join(work, 'n.jsonl'),
      extra: ['--no-progress', '--json'],
    });
    expect(last(named.stdout)).toMatchObject({ total: 1, skipped_files: 0 });
    expect((await readRecords(path.join(work, 'n.jsonl')))[0]).toMatchObject({
      status: 'error',
      cache: null,
      error: { code: 'UNSUPPORTED_FORMAT' },
    });
  }, 120_000);

  it('estimate and optimize say so too', async () => {
    const estimate = (extra: string[]) =>
      runCli(['estimate', folder, '-p', pattern, ...openAiFlags(server.baseUrl), ...extra], { cwd: work });
    const estimated = await estimate(['--json']);
    expect(estimated.code, estimated.stderr).toBe(0);
    expect(JSON.parse(estimated.stdout).totals).toMatchObject({ images: 2, skipped_files: 3 });
    expect((await estimate([])).stdout).toContain(`3 ${SKIPPED}`);

    const optimize = (out: string, extra: string[]) =>
      runCli(['optimize', folder, '--out-dir', path.join(work, out), ...extra], { cwd: work });
    const optimized = await optimize('o1', ['--json']);
    expect(optimized.code, optimized.stderr).toBe(0);
    expect(JSON.parse(optimized.stdout).total).toMatchObject({ ok: 2, errors: 0, skipped_files: 3 });
    expect((await optimize('o2', [])).stdout).toContain(`3 ${SKIPPED}`);
  }, 120_000);
});
