/**
 * `--min-confidence X` makes an output with every field null an error (issue 13 trial):
 * `--help` says outputs below the threshold become errors, and an empty output is below any.
 * Its record is status "error", code EMPTY_OUTPUT; without --min-confidence it stays ok with
 * quality "empty". --fail-on-error exits 1 on it, and `report` counts it as the run did.
 * Real CLI, loopback OpenAI-compatible server answering nulls, real corpus images.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../src/runs/summary.js';
import { readRecords, runCli, runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

let server: CompatibleServer;
let work: string;

beforeAll(async () => {
  server = await startCompatibleServer('{"vendor_name": null, "total": null}');
  work = await tempDir('visionpipe-empty-enforced-');
});

afterAll(async () => {
  await server?.close();
});

describe('an all-null output', () => {
  it('is an EMPTY_OUTPUT error with --min-confidence, ok and empty without', async () => {
    const pattern = await writeSimplePattern(work);
    const run = (out: string, extra: string[]) =>
      runOpenAiCompatible(corpus('parking3.jpg'), {
        pattern,
        baseUrl: server.baseUrl,
        out: path.join(work, out),
        extra: ['--cache', 'off', '--no-progress', '--json', ...extra],
        cwd: work,
      });
    const enforced = await run('enforced.jsonl', ['--min-confidence', '0.5', '--fail-on-error']);
    expect(enforced.code, enforced.stderr).toBe(1);
    const [record] = await readRecords(path.join(work, 'enforced.jsonl'));
    expect(record).toMatchObject({ status: 'error', error: { code: 'EMPTY_OUTPUT' } });
    const summary = JSON.parse(enforced.stdout.trim().split('\n').at(-1) ?? '') as Summary;
    expect(summary).toMatchObject({ ok: 0, errors: 1, errors_by_code: { EMPTY_OUTPUT: 1 } });
    const report = await runCli(
      ['report', path.join(work, 'enforced.jsonl'), '--out', path.join(work, 'r.html'), '--json'],
      { cwd: work },
    );
    expect(JSON.parse(report.stdout)).toMatchObject({ ok: 0, errors: 1 });

    const plain = await run('plain.jsonl', []);
    expect(plain.code, plain.stderr).toBe(0);
    const [kept] = await readRecords(path.join(work, 'plain.jsonl'));
    expect(kept).toMatchObject({ status: 'ok', error: null, quality: 'empty' });
  }, 120_000);
});
