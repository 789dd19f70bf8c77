/**
 * What `visionpipe report` is given by mistake or from elsewhere: a folder instead of the
 * results file is a typed INVALID_INPUT naming it (it was an INTERNAL error, exit 3), and
 * records written by versions before results lines named their pattern are reported, their
 * pattern shown as not recorded, instead of refusing the whole file.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportFigures } from '../../src/report/index.js';
import { UNNAMED_PATTERN } from '../../src/report/read-results.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

let work: string;

/** A results line as written before 2026-11-22: no pattern, finished_at, profile or cascade. */
function oldRecord(input: string, status: 'ok' | 'error', latency: number): Record<string, unknown> {
  return {
    input,
    sha256: 'a'.repeat(64),
    status,
    output: status === 'ok' ? { total: 1 } : null,
    error: status === 'ok' ? null : { code: 'PROVIDER_ERROR', message: 'HTTP 500' },
    cache: 'miss',
    provider: 'openai',
    model: 'gpt-4o',
    latency_ms: latency,
    attempts: 1,
    image: { width: 100, height: 80, bytes: 1000, original_bytes: 2000 },
    usage: { input_tokens: 100, output_tokens: 10, image_tokens: 85, estimated: false },
    cost_usd: status === 'ok' ? 0.001 : null,
  };
}

beforeAll(async () => {
  work = await tempDir('visionpipe-report-inputs-');
});

describe('visionpipe report inputs', () => {
  it('refuses a folder by name (INVALID_INPUT, exit 2), never an internal error', async () => {
    const folder = path.join(work, 'results-folder');
    await mkdir(folder);
    const made = await runCli(['report', folder, '--out', path.join(work, 'folder.html')], { cwd: work });
    expect(made.code, made.stderr).toBe(2);
    expect(made.stderr).toMatch(/error \[INVALID_INPUT\]: .*results-folder: is a folder/);
    expect(made.stderr).not.toMatch(/INTERNAL/);
  });

  it('reports records from versions that did not name the pattern', async () => {
    const file = path.join(work, 'old.jsonl');
    const lines = [
      oldRecord('a.jpg', 'ok', 1000),
      oldRecord('b.jpg', 'ok', 3000),
      oldRecord('c.jpg', 'error', 500),
    ];
    await writeFile(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const figures = await reportFigures(file);
    expect(figures.headline.images).toBe(3);
    expect(figures.failed.map((r) => r.input)).toEqual(['c.jpg']);
    const out = path.join(work, 'old.html');
    const made = await runCli(['report', file, '--out', out], { cwd: work });
    expect(made.code, made.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toContain(UNNAMED_PATTERN);
  });
});
