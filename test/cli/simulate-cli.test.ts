/**
 * `visionpipe simulate` as users run it (issue 13): ImgGo patterns registered from pattern
 * files so `run --provider imggo` gets answers in the pattern's schema (not
 * SCHEMA_MISMATCH), a request log with credentials redacted, and a one-line error naming
 * the port and --port when the port is taken. Real processes, real ports.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLogEntry } from '../../src/simulator/index.js';
import { ROOT, readRecords, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { type Running, startCli } from '../support/processes.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const PATTERN = path.join(ROOT, 'samples/patterns/receipt.yaml');
const KEY = 'imggo_test_simulatorlogsecret42';
let folder: string;
let images: string;
let sim: Running;
let api: string;

beforeAll(async () => {
  folder = await tempDir('visionpipe-simulate-cli-');
  images = path.join(folder, 'images');
  await mkdir(images);
  for (let i = 0; i < 3; i++)
    await writeFile(path.join(images, `s-${i}.jpg`), await solidJpeg(40 + i, 30, '#336699'));
  sim = startCli(
    [
      'simulate',
      '--port',
      '0',
      '--answer',
      'empty',
      '--latency',
      '5ms',
      '--imggo-pattern',
      `receipt=${PATTERN}`,
      '--log',
      path.join(folder, 'requests.jsonl'),
    ],
    {},
    folder,
  );
  api = (await sim.waitFor(/--provider imggo\s+--base-url (http:\/\/127\.0\.0\.1:\d+\/api)/))[1]!;
});

afterAll(async () => {
  if (sim && sim.child.exitCode === null) await sim.stop('SIGINT');
});

function run(patternId: string, out: string) {
  return runCli(
    [
      'run',
      images,
      '--pattern',
      PATTERN,
      '--provider',
      'imggo',
      '--imggo-pattern',
      patternId,
      '--base-url',
      api,
      '--cache',
      'off',
      '--out',
      out,
    ],
    { cwd: folder, env: { IMGGO_API_KEY: KEY } },
  );
}

describe('visionpipe simulate', () => {
  it('serves a registered ImgGo pattern: run --provider imggo gets outputs in its schema', async () => {
    expect(sim.stdout).toContain('ImgGo patterns: receipt');
    const out = path.join(folder, 'imggo.jsonl');
    const result = await run('receipt', out);
    expect(result.code).toBe(0);
    const got = await readRecords(out);
    expect(got).toHaveLength(3);
    expect(got.map((r) => r.error?.code ?? r.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('answers an unregistered pattern id with pattern_not_found, not a schema mismatch', async () => {
    const out = path.join(folder, 'unknown.jsonl');
    await run('nosuchpattern', out);
    const got = await readRecords(out);
    expect(got.every((r) => r.status === 'error')).toBe(true);
    expect(got.map((r) => r.error?.code)).not.toContain('SCHEMA_MISMATCH');
    expect(got[0]?.error?.message).toMatch(/not found/i);
  });

  it('logs every request and its answer, credentials redacted, once stopped', async () => {
    expect(await sim.stop('SIGINT')).toBe(0);
    const text = await readFile(path.join(folder, 'requests.jsonl'), 'utf8');
    expect(text).not.toContain(KEY);
    const entries = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RequestLogEntry);
    const ingests = entries.filter((e) => e.route === 'imggo POST /api/patterns/{id}/ingest');
    expect(ingests.filter((e) => e.response.status === 202)).toHaveLength(3);
    expect(ingests.every((e) => e.request.headers.authorization === '[redacted]')).toBe(true);
    expect(
      ingests.every((e) => e.request.bytes > 0 && e.request.content_type?.startsWith('multipart/')),
    ).toBe(true);
    const missing = entries.filter((e) => e.path.includes('nosuchpattern'));
    expect(missing.length).toBeGreaterThan(0);
    expect(missing[0]?.response.status).toBe(404);
    expect(missing[0]?.response.error).toContain('pattern_not_found');
    expect(entries.some((e) => e.route === 'imggo GET /api/jobs/{id}' && e.response.status === 200)).toBe(
      true,
    );
  });

  it('says in one line that the port is taken, naming it and --port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runCli(['simulate', '--port', String(port)], { timeoutMs: 30_000 });
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`port ${port}`);
      expect(lines[0]).toContain('already in use');
      expect(lines[0]).toContain('--port');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('refuses a pattern registration it cannot read, naming it', async () => {
    const result = await runCli(['simulate', '--port', '0', '--imggo-pattern', 'x=/no/such/pattern.json'], {
      timeoutMs: 30_000,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/no/such/pattern.json');
  });
});
