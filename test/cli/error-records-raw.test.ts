/**
 * What an error record keeps to debug it (issue 13): a BAD_RESPONSE after the repair call
 * keeps the model's last answer (`raw_output`) and says a repair was made
 * (`cascade.repair`); a SCHEMA_MISMATCH keeps the model's content text, not the whole HTTP
 * body. And `report`'s text line splits ok / empty / low confidence as the summary does,
 * with no rate over nothing. Real CLI processes against a loopback OpenAI-compatible server.
 */
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runCli, runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import {
  type CompatibleServer,
  startCompatibleServer,
  writeSimplePattern,
} from '../support/openai-compatible.js';

let work: string;
let pattern: string;
let server: CompatibleServer;

beforeAll(async () => {
  work = await tempDir('visionpipe-error-raw-');
  pattern = await writeSimplePattern(work);
  await copyFile(corpus('invoice1.jpg'), path.join(work, 'bad.jpg'));
  await copyFile(corpus('invoice2.jpg'), path.join(work, 'mismatch.jpg'));
  server = await startCompatibleServer('{}');
});

afterAll(async () => {
  await server?.close();
});

describe('error records keep what helps to debug them', () => {
  it('BAD_RESPONSE after a repair: raw_output and cascade.repair; SCHEMA_MISMATCH: the content text', async () => {
    await server.close();
    let n = 0;
    server = await startCompatibleServer(() => {
      n++;
      return n <= 2 ? 'I cannot read this receipt, it is blurry' : '{"vendor_name": "ACME", "total": "lots"}';
    });
    const bad = await runOpenAiCompatible('bad.jpg', {
      pattern,
      baseUrl: server.baseUrl,
      out: path.join(work, 'bad.jsonl'),
      extra: ['--cache', 'off', '--no-progress'],
      cwd: work,
    });
    expect(bad.code, bad.stderr).toBe(0);
    const [badRecord] = await readRecords(path.join(work, 'bad.jsonl'));
    expect(badRecord?.error?.code).toBe('BAD_RESPONSE');
    expect(badRecord?.raw_output).toContain('I cannot read this receipt');
    expect(badRecord?.cascade.repair).toBeTruthy();

    const mismatch = await runOpenAiCompatible('mismatch.jpg', {
      pattern,
      baseUrl: server.baseUrl,
      out: path.join(work, 'mismatch.jsonl'),
      extra: ['--cache', 'off', '--no-progress'],
      cwd: work,
    });
    expect(mismatch.code, mismatch.stderr).toBe(0);
    const [record] = await readRecords(path.join(work, 'mismatch.jsonl'));
    expect(record?.error?.code).toBe('SCHEMA_MISMATCH');
    expect(record?.raw_output).toBe('{"vendor_name": "ACME", "total": "lots"}');
    expect(record?.raw_output).not.toContain('choices');

    // report over these records: the summary's split, no images/hour over nothing worked out.
    const report = await runCli(['report', 'mismatch.jsonl', '--out', 'r.html'], { cwd: work });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/ok 0 · empty 0 \(all fields null\) · low confidence 0 · errors 1/);
  }, 240_000);

  it("SCHEMA_MISMATCH with wrong types: the parsed answer is the record's output, not ok, also when recalled on a rerun", async () => {
    await server.close();
    server = await startCompatibleServer('{"vendor_name": 42, "total": "lots"}');
    const run = () =>
      runOpenAiCompatible('mismatch.jpg', {
        pattern,
        baseUrl: server.baseUrl,
        out: path.join(work, 'typed.jsonl'),
        extra: ['--no-progress', '--json', '--fresh', '--state-dir', path.join(work, 'typed-state')],
        cwd: work,
      });
    for (const [pass, cache] of [
      ['first', 'miss'],
      ['rerun (remembered failure, nothing paid)', 'hit'],
    ] as const) {
      const result = await run();
      expect(result.code, result.stderr).toBe(0);
      const [record] = await readRecords(path.join(work, 'typed.jsonl'));
      expect(record, pass).toMatchObject({
        status: 'error',
        error: { code: 'SCHEMA_MISMATCH' },
        cache,
        output: { vendor_name: 42, total: 'lots' },
        raw_output: '{"vendor_name": 42, "total": "lots"}',
        quality: null,
      });
      if (cache === 'hit') expect(record?.cost_usd, pass).toBe(0);
      const summary = JSON.parse(result.stdout) as { ok: number; errors: number };
      expect(summary, pass).toMatchObject({ ok: 0, errors: 1 });
    }
    expect(server.calls.length).toBe(1);
  }, 240_000);
});
