/**
 * A server that echoes the API key (issue 12): in an error body, in an answer that is not
 * JSON, in a value that breaks the schema and in an output that is kept. The key is padded so
 * that it straddles every cut visionpipe makes of someone else's text (60, 300 and 500
 * characters, a value shown in a message): a cut before redaction left 30 of a 32-hex key's
 * characters in results.jsonl, --failures, the log, the report and --json. No 8 characters
 * of the key may reach any file the run (or `report`) writes, or its stdout/stderr.
 */
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startServer, type TestServer } from '../support/http.js';
import { tempDir } from '../support/images.js';
import { writeSimplePattern } from '../support/openai-compatible.js';

/** 32 hex characters, no recognisable shape: only the environment names it a key. */
const KEY = '3f9a1c7e5b2d4086af13ce57b9d20e64';

/** What each image gets, by the order its image is first seen (retries and repairs get the same). */
const SCENARIOS: Array<{ status: number; body: string }> = [
  // A non-JSON error body: cut to 300 characters.
  { status: 400, body: `${'x'.repeat(285)}${KEY} tail` },
  // A 2xx body that is not JSON: quoted to 60 characters.
  { status: 200, body: `${'y'.repeat(45)}${KEY} tail` },
  // A JSON error message: cut to 500 characters.
  {
    status: 400,
    body: JSON.stringify({
      error: { message: `${'z'.repeat(490)}${KEY} tail`, type: 'invalid_request_error' },
    }),
  },
  // An answer that is not JSON: quoted to 60 characters.
  { status: 200, body: chat(`${'w'.repeat(45)}${KEY} tail`) },
  // A value that breaks the schema (total is a number): shown in the message, cut at 57.
  { status: 200, body: chat(JSON.stringify({ vendor_name: `v ${KEY}`, total: `${'t'.repeat(45)}${KEY}` })) },
  // A kept output holding the key.
  { status: 200, body: chat(JSON.stringify({ vendor_name: `${'n'.repeat(50)}${KEY}`, total: 1 })) },
];

function chat(content: string): string {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5 },
  });
}

/** Every 8-character piece of the key found in `text`. */
function keyPieces(text: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 8 <= KEY.length; i++)
    if (text.includes(KEY.slice(i, i + 8))) found.push(KEY.slice(i, i + 8));
  return found;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

describe('a server that echoes the key', () => {
  let server: TestServer;
  let dir: string;
  const seen = new Map<string, number>();
  beforeAll(async () => {
    server = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const image =
          /data:image\/[a-z]+;base64,[A-Za-z0-9+/=]+/.exec(Buffer.concat(chunks).toString('utf8'))?.[0] ?? '';
        // A call without an image (a repair of an unreadable answer) gets the error body echo.
        if (image !== '' && !seen.has(image)) seen.set(image, seen.size % SCENARIOS.length);
        const scenario = SCENARIOS[seen.get(image) ?? 0]!;
        res.statusCode = scenario.status;
        res.setHeader('content-type', scenario.body.startsWith('{') ? 'application/json' : 'text/plain');
        res.end(scenario.body);
      });
    });
    dir = await tempDir();
    await mkdir(path.join(dir, 'in'));
    for (let i = 0; i < SCENARIOS.length; i++) {
      await sharp({
        create: { width: 20 + i, height: 20, channels: 3, background: { r: i * 40, g: 128, b: 64 } },
      })
        .png()
        .toFile(path.join(dir, 'in', `${i}.png`));
    }
  });
  afterAll(() => server.close());

  it('never writes 8 characters of it anywhere: results, failures, combine, format-dir, log, report, --json', async () => {
    const out = path.join(dir, 'out');
    const env = { OPENAI_API_KEY: KEY };
    const run = await runCli(
      [
        'run',
        path.join(dir, 'in'),
        '-p',
        await writeSimplePattern(dir),
        '-o',
        path.join(out, 'r.jsonl'),
        '--failures',
        path.join(out, 'failures.jsonl'),
        '--combine',
        path.join(out, 'all.json'),
        '--format-dir',
        path.join(out, 'formatted'),
        '--log-file',
        path.join(out, 'run.log'),
        '--log-level',
        'debug',
        '--report',
        path.join(out, 'report.html'),
        '--state-dir',
        path.join(dir, 'state'),
        '--provider',
        'openai',
        '--model',
        'gpt-4o-mini',
        '--base-url',
        `${server.url}/v1`,
        '--concurrency',
        '1',
        '--cache',
        'off',
        '--json',
        '--no-progress',
      ],
      { env },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(seen.size).toBe(SCENARIOS.length); // every scenario was answered
    const report = await runCli(
      ['report', path.join(out, 'r.jsonl'), '--out', path.join(out, 'report2.html'), '--json'],
      {
        env,
      },
    );
    expect(report.code, report.stderr).toBe(0);
    const records = (await readFile(path.join(out, 'r.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(records).toHaveLength(SCENARIOS.length);
    expect(
      (await readFile(path.join(out, 'failures.jsonl'), 'utf8')).split('\n').filter(Boolean).length,
    ).toBeGreaterThan(3);
    const leaks: Record<string, string[]> = {};
    for (const file of await filesUnder(out)) {
      if (!(await stat(file)).isFile()) continue;
      const pieces = keyPieces(await readFile(file, 'latin1'));
      if (pieces.length) leaks[path.relative(out, file)] = pieces;
    }
    for (const [name, text] of Object.entries({
      'run stdout': run.stdout,
      'run stderr': run.stderr,
      'report stdout': report.stdout,
      'report stderr': report.stderr,
    })) {
      const pieces = keyPieces(text);
      if (pieces.length) leaks[name] = pieces;
    }
    expect(leaks).toEqual({});
    // The outputs are still there, the key hidden: redaction, not loss.
    expect(await readFile(path.join(out, 'r.jsonl'), 'utf8')).toContain('[redacted]');
  });
});
