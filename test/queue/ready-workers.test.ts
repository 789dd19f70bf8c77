/**
 * `/_ready` counts only workers that can take the API's jobs: real `visionpipe serve
 * --workers 0` and `visionpipe worker` processes. A worker on another Redis database
 * (same prefix) or under another queue prefix never sees the API's jobs, so it must not
 * make the API ready; a worker on the same database and prefix does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/api-client.js';
import { tempDir } from '../support/images.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { type Running, startCli } from '../support/processes.js';
import { clearRedisPrefix, REDIS_URL } from '../support/service.js';

const OTHER_DB_URL = `${REDIS_URL.replace(/\/\d*$/, '')}/7`;

let database: TestDatabase;
let prefix: string;
let env: Record<string, string>;
let api: Running;
let base: string;
const workers: Running[] = [];

async function startWorker(extraEnv: Record<string, string>): Promise<void> {
  const worker = startCli(
    [
      'worker',
      '--provider',
      'openai',
      '--base-url',
      'http://127.0.0.1:9/v1',
      '--state-dir',
      await tempDir('ready-worker'),
    ],
    { ...env, ...extraEnv },
  );
  workers.push(worker);
  await worker.waitFor(/visionpipe worker: taking jobs/);
}

async function ready(): Promise<{ status: number; workers: number }> {
  const answer = await call<{ checks: { workers: number } }>(base.replace(/\/api$/, ''), 'GET', '/_ready');
  return { status: answer.status, workers: answer.body.checks.workers };
}

beforeAll(async () => {
  database = await createTestDatabase('ready');
  prefix = `vpr-${process.pid}-${Date.now().toString(36)}`;
  env = { DATABASE_URL: database.url, REDIS_URL, VISIONPIPE_QUEUE_PREFIX: prefix, OPENAI_API_KEY: 'sim' };
  api = startCli(['serve', '--port', '0', '--workers', '0'], env);
  base = `${(await api.waitFor(/visionpipe serve: (http:\/\/\S+)\/api/))[1]}/api`;
});

afterAll(async () => {
  for (const worker of workers) await worker.stop('SIGKILL');
  if (api) await api.stop('SIGTERM');
  await database?.drop();
  await clearRedisPrefix(prefix);
  await clearRedisPrefix(prefix, OTHER_DB_URL);
  await clearRedisPrefix(`${prefix}-other`);
});

describe('/_ready and the workers it counts', () => {
  it('a worker on another Redis database or another prefix does not make the API ready; one on its queue does', async () => {
    expect(await ready()).toEqual({ status: 503, workers: 0 });
    await startWorker({ REDIS_URL: OTHER_DB_URL });
    expect(await ready()).toEqual({ status: 503, workers: 0 });
    await startWorker({ VISIONPIPE_QUEUE_PREFIX: `${prefix}-other` });
    expect(await ready()).toEqual({ status: 503, workers: 0 });
    await startWorker({});
    expect(await ready()).toEqual({ status: 200, workers: 1 });
  });
});
