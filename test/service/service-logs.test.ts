/**
 * `serve` and `worker` log as `run --log-file` does (src/metrics/log.ts): pino JSON lines,
 * here on stdout, each parsed as JSON. The API logs every request with its request id
 * (the `x-request-id` it answered with, or the one the caller gave), never the API key;
 * the worker logs that it takes jobs and the images it finished failing, as JSON too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { type Running, startCli } from '../support/processes.js';
import { clearRedisPrefix, REDIS_URL } from '../support/service.js';

let sim: Simulator;
let database: TestDatabase;
let prefix: string;
let env: Record<string, string>;
let key: string;
const processes: Running[] = [];

interface LogLine {
  level: number;
  time: number;
  pid: number;
  role: string;
  msg: string;
  reqId?: string;
  event?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
  [field: string]: unknown;
}

/** Every stdout line parsed as JSON: a line that is not fails the test. */
function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

beforeAll(async () => {
  sim = await startSimulator({ answer: () => ({ merchant: 'Blue Bottle' }) });
  database = await createTestDatabase('service_logs');
  prefix = `vplog-${process.pid}-${Date.now().toString(36)}`;
  env = { DATABASE_URL: database.url, REDIS_URL, VISIONPIPE_QUEUE_PREFIX: prefix, OPENAI_API_KEY: 'sim' };
  const created = await runCli(['keys', 'create', '--name', 'logs', '--scopes', 'admin:all'], { env });
  key = created.stdout.trim();
}, 60_000);

afterAll(async () => {
  for (const p of processes) await p.stop('SIGKILL');
  await sim?.close();
  await database?.drop();
  await clearRedisPrefix(prefix);
});

describe('serve and worker logs', () => {
  it('are pino JSON lines on stdout, requests with their ids, the key never', async () => {
    const api = startCli(['serve', '--port', '0', '--workers', '0'], env);
    processes.push(api);
    const base = `${(await api.waitFor(/visionpipe serve: (http:\/\/[^\s"]+)\/api/))[1]}/api`;
    const worker = startCli(
      [
        'worker',
        '--provider',
        'openai',
        '--base-url',
        sim.baseUrls.openai,
        '--state-dir',
        await tempDir('logs-'),
      ],
      env,
    );
    processes.push(worker);
    await worker.waitFor(/visionpipe worker: taking jobs/);

    const pattern = await call<{ data: { id: string } }>(base, 'POST', '/patterns', {
      key,
      json: { name: 'Receipt', instructions: 'Read', json_schema: { merchant: 'string' } },
      headers: { 'x-request-id': 'given-id-42' },
    });
    expect(pattern.status).toBe(201);
    const answer = await call<{ data: { job_id: string } }>(
      base,
      'POST',
      `/patterns/${pattern.body.data.id}/ingest`,
      {
        key,
        form: imageForm(await distinctJpeg(4242)),
      },
    );
    const generated = answer.headers.get('x-request-id');
    expect(generated).toMatch(/^req_/);
    await waitForJob(base, key, answer.body.data.job_id);

    expect(await api.stop('SIGTERM')).toBe(0);
    expect(await worker.stop('SIGTERM')).toBe(0);

    const served = logLines(api.stdout);
    expect(
      served.every((l) => l.role === 'serve' && typeof l.level === 'number' && typeof l.time === 'number'),
    ).toBe(true);
    expect(served.some((l) => l.event === 'serve.listening')).toBe(true);
    // Each request: one line when it comes in and one when answered, with its id.
    for (const id of ['given-id-42', generated]) {
      const lines = served.filter((l) => l.reqId === id);
      expect(
        lines.map((l) => l.msg),
        id ?? '',
      ).toEqual(['incoming request', 'request completed']);
    }
    const completed = served.find((l) => l.reqId === generated && l.msg === 'request completed');
    expect(completed?.res?.statusCode).toBe(202);
    expect(served.some((l) => /draining/.test(l.msg))).toBe(true);

    const worked = logLines(worker.stdout);
    expect(worked.every((l) => l.role === 'worker')).toBe(true);
    expect(worked.some((l) => l.event === 'worker.ready')).toBe(true);

    for (const output of [api.stdout, api.stderr, worker.stdout, worker.stderr])
      expect(output).not.toContain(key);
  }, 120_000);
});
