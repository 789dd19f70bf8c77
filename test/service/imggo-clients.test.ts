/**
 * The proof of compatibility: ImgGo's own example clients (TypeScript class and batch
 * script, Python class, the three curl scripts), run unchanged from the shared folder,
 * talk to a real `visionpipe serve` process and get the right answers; so does
 * `visionpipe run --provider imggo`. The service reads the sample invoices with the local
 * engine, and every manifest is compared with the samples' ground truth.
 */
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/api-client.js';
import { ROOT, runCli, runCommand } from '../support/cli.js';
import { startServer, type TestServer } from '../support/http.js';
import { tempDir } from '../support/images.js';
import { IMGGO_API_DIR } from '../support/openapi.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { type Running, startCli } from '../support/processes.js';
import { clearRedisPrefix, REDIS_URL } from '../support/service.js';

const EXAMPLES = path.join(IMGGO_API_DIR, 'examples');
const SAMPLES = path.join(ROOT, 'samples/images');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const DRIVERS = path.join(ROOT, 'test/support/imggo-clients');

let database: TestDatabase;
let prefix: string;
let serve: Running;
let api: string;
let key: string;
let patternId: string;
let images: TestServer;
let work: string;
const truth = new Map<string, Record<string, unknown>>();

/** A python3 that has `requests` (ImgGo's client needs it): the one on PATH, or Debian's. */
function python(): string {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import requests']).status === 0) return candidate;
  }
  throw new Error('no python3 with requests: apt-get install python3-requests (.ci/run does)');
}

/** Runs a client program to its end with the key and base URL in its environment. */
function runClient(command: string, args: string[], options: { cwd?: string } = {}) {
  return runCommand(command, args, {
    cwd: options.cwd ?? work,
    env: {
      ...process.env,
      IMGGO_API_KEY: key,
      IMGGO_BASE_URL: api,
      // ImgGo's TypeScript examples import axios and form-data: resolved from this repository.
      NODE_PATH: path.join(ROOT, 'node_modules'),
    },
    timeoutMs: 240_000,
  });
}

const truthOf = (image: string) => truth.get(image)!;
const lines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { target: string; manifest: unknown });

beforeAll(async () => {
  for (const line of (await readFile(path.join(ROOT, 'samples/truth.jsonl'), 'utf8')).trim().split('\n')) {
    const record = JSON.parse(line) as { input: string; truth: Record<string, unknown> | null };
    if (record.truth) truth.set(path.basename(record.input), record.truth);
  }
  work = await tempDir('imggo-clients');
  database = await createTestDatabase('clients');
  prefix = `vpc-${process.pid}-${Date.now().toString(36)}`;
  const env = { DATABASE_URL: database.url, REDIS_URL, VISIONPIPE_QUEUE_PREFIX: prefix };
  const created = await runCli(['keys', 'create', '--name', 'clients', '--scopes', 'admin:all'], { env });
  expect(created.code, created.stderr).toBe(0);
  key = created.stdout.trim();
  serve = startCli(
    [
      'serve',
      '--port',
      '0',
      '--workers',
      '2',
      '--concurrency',
      '2',
      '--allow-private-urls',
      '--state-dir',
      work,
    ],
    env,
    work,
  );
  api = `${(await serve.waitFor(/visionpipe serve: (http:\/\/\S+)\/api/))[1]}/api`;
  const pattern = JSON.parse(await readFile(path.join(ROOT, 'samples/patterns/invoice.json'), 'utf8'));
  const answer = await call<{ data: { id: string } }>(api, 'POST', '/patterns', { key, json: pattern });
  expect(answer.status, answer.text).toBe(201);
  patternId = answer.body.data.id;
  images = await startServer(async (req, res) => {
    try {
      const bytes = await readFile(path.join(SAMPLES, path.basename(req.url ?? '')));
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(bytes);
    } catch {
      res.writeHead(404).end();
    }
  });
});

afterAll(async () => {
  await images?.close();
  if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
  await database?.drop();
  await clearRedisPrefix(prefix);
});

describe("ImgGo's example clients, unchanged", () => {
  it('the TypeScript client class: an upload (polled) and a URL (job id, then waited for)', async () => {
    const done = await runClient(TSX, [
      path.join(DRIVERS, 'ts-client.ts'),
      path.join(EXAMPLES, 'common/imggo_client.ts'),
      api,
      patternId,
      'file',
      path.join(SAMPLES, 'invoice-001.png'),
      'url',
      `${images.url}/invoice-003.jpg`,
    ]);
    expect(done.code, done.stderr).toBe(0);
    const [upload, url] = lines(done.stdout);
    expect(upload!.manifest).toEqual(truthOf('invoice-001.png'));
    expect(url!.manifest).toEqual(truthOf('invoice-003.jpg'));
  });

  it('the TypeScript batch script (async-batch.ts): concurrent uploads, every result saved', async () => {
    const dir = await tempDir('async-batch');
    const done = await runClient(
      TSX,
      [
        path.join(EXAMPLES, 'languages/nodejs/async-batch.ts'),
        patternId,
        path.join(SAMPLES, 'invoice-002.png'),
        path.join(SAMPLES, 'invoice-006.jpg'),
      ],
      { cwd: dir },
    );
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('Succeeded: 2');
    const file = (await readdir(dir)).find((f) => f.startsWith('batch-results-'))!;
    const results = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Array<{
      imagePath: string;
      success: boolean;
      data: unknown;
    }>;
    for (const result of results) {
      expect(result.success).toBe(true);
      expect(result.data).toEqual(truthOf(path.basename(result.imagePath)));
    }
  });

  it('the Python client class: an upload (polled) and a URL', async () => {
    const done = await runClient(python(), [
      path.join(DRIVERS, 'py_client.py'),
      path.join(EXAMPLES, 'common'),
      api,
      patternId,
      'file',
      path.join(SAMPLES, 'invoice-008-rotated.jpg'),
      'url',
      `${images.url}/invoice-001.png`,
    ]);
    expect(done.code, done.stderr).toBe(0);
    const [upload, url] = lines(done.stdout);
    expect(upload!.manifest).toEqual(truthOf('invoice-008-rotated.jpg'));
    expect(url!.manifest).toEqual(truthOf('invoice-001.png'));
  });

  const curl: Array<[string, () => string, string]> = [
    ['basic-upload.sh', () => path.join(SAMPLES, 'invoice-006.jpg'), 'invoice-006.jpg'],
    ['error-handling.sh', () => path.join(SAMPLES, 'invoice-002.png'), 'invoice-002.png'],
    ['url-processing.sh', () => `${images.url}/invoice-003.jpg`, 'invoice-003.jpg'],
  ];
  for (const [script, image, name] of curl) {
    it(`the curl script ${script}`, async () => {
      const done = await runClient('bash', [
        path.join(EXAMPLES, 'languages/curl', script),
        image(),
        patternId,
      ]);
      expect(done.code, `${done.stdout}\n${done.stderr}`).toBe(0);
      expect(done.stdout).toContain('EXTRACTED DATA');
      // The scripts print the manifest up to its first closing brace: every header field is there.
      const expected = truthOf(name);
      for (const field of ['vendor_name', 'invoice_number', 'invoice_date', 'total']) {
        expect(done.stdout).toContain(`"${field}":${JSON.stringify(expected[field])}`);
      }
    });
  }
});

describe('visionpipe run --provider imggo against visionpipe serve', () => {
  it('reads the images through the service, one record each, answers as the ground truth says', async () => {
    const out = path.join(work, 'through-imggo.jsonl');
    const done = await runCli(
      [
        'run',
        path.join(SAMPLES, 'invoice-001.png'),
        path.join(SAMPLES, 'invoice-006.jpg'),
        '-p',
        path.join(ROOT, 'samples/patterns/invoice.json'),
        '--provider',
        'imggo',
        '--base-url',
        api,
        '--imggo-pattern',
        patternId,
        '--cache',
        'off',
        '--state-dir',
        path.join(work, 'run-state'),
        '--out',
        out,
        '--json',
        '--no-progress',
      ],
      { env: { IMGGO_API_KEY: key }, cwd: work },
    );
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ total: 2, ok: 2, errors: 0 });
    const records = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { input: string; status: string; output: unknown; provider: string });
    for (const record of records) {
      expect(record).toMatchObject({ status: 'ok', provider: 'imggo' });
      expect(record.output).toEqual(truthOf(path.basename(record.input)));
    }
  });
});
