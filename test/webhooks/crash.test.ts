/**
 * Webhooks survive the death of every process between the result and its delivery:
 * `visionpipe serve --workers 0` and a `visionpipe worker` (real processes, the
 * simulator as provider) finish three jobs; the receiver holds the first deliveries
 * open; both processes are SIGKILLed mid-delivery. A new worker process, started
 * later, delivers every event once the dead dispatchers' claims expire, with the same
 * `webhook-id` as the interrupted attempt: each event arrives under one id, and the
 * outbox holds exactly one event per job.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { type Running, startCli } from '../support/processes.js';
import { clearRedisPrefix, REDIS_URL } from '../support/service.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

const WEBHOOK_FLAGS = ['--allow-private-urls', '--webhook-timeout', '1s', '--webhook-retries', '1s,1s,1s'];

let sim: Simulator;
let database: TestDatabase;
let prefix: string;
let env: Record<string, string>;
let receiver: Receiver;
let holding = true;
const processes: Running[] = [];

async function worker(): Promise<Running> {
  const w = startCli(
    [
      'worker',
      '--provider',
      'openai',
      '--base-url',
      sim.baseUrls.openai,
      '--state-dir',
      await tempDir('wh-crash'),
      ...WEBHOOK_FLAGS,
    ],
    env,
  );
  processes.push(w);
  await w.waitFor(/visionpipe worker: taking jobs/);
  return w;
}

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 100, maxMs: 100 },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
  });
  database = await createTestDatabase('whcrash');
  prefix = `vpwh-${process.pid}-${Date.now().toString(36)}`;
  env = { DATABASE_URL: database.url, REDIS_URL, VISIONPIPE_QUEUE_PREFIX: prefix, OPENAI_API_KEY: 'sim' };
  receiver = await startReceiver(() => (holding ? 'hang' : { status: 200 }));
});

afterAll(async () => {
  for (const p of processes) await p.stop('SIGKILL');
  await receiver?.close();
  await sim?.close();
  await database?.drop();
  await clearRedisPrefix(prefix);
});

describe('webhooks across crashes', () => {
  it('API and worker SIGKILLed mid-delivery: a later worker delivers every event, once per event id', async () => {
    const key = (
      await runCli(['keys', 'create', '--name', 'crash', '--scopes', 'admin:all'], { env })
    ).stdout.trim();
    const api = startCli(['serve', '--port', '0', '--workers', '0', ...WEBHOOK_FLAGS], env);
    processes.push(api);
    const base = `${(await api.waitFor(/visionpipe serve: (http:\/\/\S+)\/api/))[1]}/api`;
    const first = await worker();
    const endpoint = await call<{ data: { id: string } }>(base, 'POST', '/webhooks', {
      key,
      json: { url: receiver.url },
    });
    expect(endpoint.status, endpoint.text).toBe(201);
    const pattern = await call<{ data: { id: string } }>(base, 'POST', '/patterns', {
      key,
      json: {
        name: 'Receipt',
        instructions: 'Read it',
        json_schema: { merchant: 'string', total: 'number' },
      },
    });
    const jobIds: string[] = [];
    for (const seed of [1, 2, 3]) {
      const answer = await call<{ data: { job_id: string } }>(
        base,
        'POST',
        `/patterns/${pattern.body.data.id}/ingest`,
        {
          key,
          form: imageForm(await distinctJpeg(seed)),
        },
      );
      jobIds.push(answer.body.data.job_id);
    }
    for (const id of jobIds) expect((await waitForJob(base, key, id)).status).toBe('succeeded');
    // Every first attempt is in flight (the receiver holds it): kill everything now.
    await receiver.until((got) => jobIds.every((id) => got.some((g) => g.json.data.job_id === id)), 20_000);
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    expect(await api.stop('SIGKILL')).toBe('SIGKILL');
    const heldIds = new Map(receiver.received.map((g) => [g.json.data.job_id, g.headers['webhook-id']]));

    holding = false;
    const second = await worker();
    const delivered = async () => {
      const { rows } = await db.query<{ status: string }>('select status from webhook_outbox');
      return rows;
    };
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const deadline = Date.now() + 40_000;
      while ((await delivered()).some((r) => r.status !== 'delivered')) {
        if (Date.now() > deadline) throw new Error(`not delivered: ${JSON.stringify(await delivered())}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const rows = await db.query<{ job_id: string; id: string; attempts: number }>(
        'select job_id, id, attempts from webhook_outbox order by job_id',
      );
      expect(rows.rows.map((r) => r.job_id).sort()).toEqual([...jobIds].sort());
      for (const id of jobIds) {
        const got = receiver.received.filter((g) => g.json.data.job_id === id);
        expect(got.length).toBeGreaterThanOrEqual(2);
        expect(new Set(got.map((g) => g.headers['webhook-id']))).toEqual(new Set([heldIds.get(id)]));
        expect(rows.rows.find((r) => r.job_id === id)?.id).toBe(heldIds.get(id));
      }
    } finally {
      await db.end();
    }
    expect(await second.stop('SIGTERM')).toBe(0);
  });
});
