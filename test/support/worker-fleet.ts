/**
 * Workers as separate processes, as on several machines, for the test files of
 * test/queue that kill and drain them: `visionpipe serve --workers 0` (the API) and
 * `visionpipe worker` processes sharing a fresh PostgreSQL database and a unique Redis
 * prefix, the provider being the simulator (2 s per call), which counts what it bills.
 *
 * `useWorkerFleet(label)` registers the file's beforeAll/afterAll (the file's own database,
 * prefix, API process, key and pattern) and returns what the tests use. Why a helper: the
 * crash tests wait on the cache claim of a killed worker (its lease is the 2 s lock), so
 * they are in a file of their own that runs beside this one in another fork, and both need
 * this setup.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, createPattern, imageForm } from './api-client.js';
import { runCli } from './cli.js';
import { tempDir } from './images.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { type Running, startCli } from './processes.js';
import { clearRedisPrefix, REDIS_URL } from './service.js';

/** The answer every provider call gets. */
export const FLEET_ANSWER = { merchant: 'Blue Bottle', total: 8.99 };

export interface WorkerFleet {
  readonly sim: Simulator;
  readonly database: TestDatabase;
  /** Environment of every process (database, Redis prefix, provider key). */
  readonly env: Record<string, string>;
  /** The API base URL (…/api). */
  readonly base: string;
  /** An admin API key. */
  readonly key: string;
  /** Provider calls billed so far. */
  billed(): number;
  /** Starts a worker process (lock 2 s, stalled check 1 s); resolves once it takes jobs. */
  startWorker(extra?: string[], extraEnv?: Record<string, string>): Promise<Running>;
  /** Kills `process` (SIGKILL) when the file ends, if still running. */
  track(process: Running): void;
  /** Ingests `image` for the file's pattern; resolves with the job id (asserts 202). */
  ingest(image: Buffer): Promise<string>;
  /** The job's database row (status, work key). */
  jobRow(id: string): Promise<{ status: string; work_key: string } | undefined>;
}

/** Polls `probe` every 50 ms until it returns a truthy value (throws after `timeoutMs`). */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sets up the file's fleet in beforeAll and tears it down in afterAll (see the module doc). */
export function useWorkerFleet(label: string): WorkerFleet {
  let sim: Simulator | undefined;
  let database: TestDatabase | undefined;
  let db: pg.Client | undefined;
  let api: Running | undefined;
  let prefix = '';
  let env: Record<string, string> = {};
  let base = '';
  let key = '';
  let patternId = '';
  let billed = 0;
  const processes: Running[] = [];
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the worker fleet is used before its beforeAll ran');
    return value;
  };

  beforeAll(async () => {
    sim = await startSimulator({
      latency: { minMs: 2000, maxMs: 2000 },
      answer: () => FLEET_ANSWER,
      onBilled: () => {
        billed++;
      },
    });
    database = await createTestDatabase(label);
    prefix = `vpw-${label}-${process.pid}-${Date.now().toString(36)}`;
    env = { DATABASE_URL: database.url, REDIS_URL, VISIONPIPE_QUEUE_PREFIX: prefix, OPENAI_API_KEY: 'sim' };
    const created = await runCli(['keys', 'create', '--name', 'workers', '--scopes', 'admin:all'], { env });
    key = created.stdout.trim();
    api = startCli(['serve', '--port', '0', '--workers', '0'], env);
    base = `${(await api.waitFor(/visionpipe serve: (http:\/\/\S+)\/api/))[1]}/api`;
    patternId = await createPattern(base, key, {
      name: 'Receipt',
      instructions: 'Read the receipt',
      json_schema: { merchant: 'string', total: 'number' },
    });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    for (const running of processes) await running.stop('SIGKILL');
    if (api) expect(await api.stop('SIGTERM')).toBe(0);
    await db?.end();
    await sim?.close();
    await database?.drop();
    if (prefix) await clearRedisPrefix(prefix);
  });

  return {
    get sim() {
      return ready(sim);
    },
    get database() {
      return ready(database);
    },
    get env() {
      return env;
    },
    get base() {
      return base;
    },
    get key() {
      return key;
    },
    billed: () => billed,
    track(running) {
      processes.push(running);
    },
    async startWorker(extra = [], extraEnv = {}) {
      const worker = startCli(
        [
          'worker',
          '--provider',
          'openai',
          '--base-url',
          ready(sim).baseUrls.openai,
          '--concurrency',
          '4',
          '--lock-duration',
          '2s',
          '--stalled-interval',
          '1s',
          '--state-dir',
          await tempDir('worker-state'),
          ...extra,
        ],
        { ...env, ...extraEnv },
      );
      processes.push(worker);
      await worker.waitFor(/visionpipe worker: taking jobs/);
      return worker;
    },
    async ingest(image) {
      const answer = await call<{ data: { job_id: string } }>(base, 'POST', `/patterns/${patternId}/ingest`, {
        key,
        form: imageForm(image),
      });
      expect(answer.status, answer.text).toBe(202);
      return answer.body.data.job_id;
    },
    async jobRow(id) {
      const { rows } = await ready(db).query<{ status: string; work_key: string }>(
        'select status, work_key from jobs where id = $1',
        [id],
      );
      return rows[0];
    },
  };
}
