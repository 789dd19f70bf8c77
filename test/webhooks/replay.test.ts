/**
 * Replay of the events that have no registered endpoint: an ingest's own `webhook_url`
 * and its pattern's, through `POST /jobs/{id}/deliveries/{delivery}/replay`, against a
 * real service (PostgreSQL, Redis, the simulator as provider) and real receivers on
 * 127.0.0.1, every delivery verified by the `standardwebhooks` package:
 *
 * - a replay is the same message (Standard Webhooks: `webhook-id` names the message, so
 *   a receiver deduplicating on it knows it) with a new timestamp and a new signature;
 * - it starts a fresh retry schedule (an event that had used up its schedule is retried
 *   again after a replay) and is logged: attempt numbers go on, each under its replay;
 * - the URL passes the address guard again (a service that refuses private addresses
 *   refuses to replay to one, 400 `invalid_webhook_url`, and sends nothing);
 * - an event of a deleted endpoint is not replayed as if it were the ingest's own (409);
 * - scope `webhooks:write`; 404 for an unknown job, or a delivery of another job.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { startTestService, type TestService } from '../support/service.js';
import { type Receiver, type Reply, startReceiver } from '../support/webhook-receiver.js';

const SERVICE_SECRET = 'replay-service-secret-0123';
const DELAYS = [100];

let sim: Simulator;
let svc: TestService;
let key: string;
let patternId: string;
let seed = 9100;
const receivers: Receiver[] = [];

interface Delivery {
  id: string;
  job_id: string;
  endpoint_id: string | null;
  source: string;
  status: string;
  attempts: number;
  replays: number;
  replayed_at: string | null;
  log: Array<{ attempt: number; replay: number; response_status: number | null }>;
}

async function receiver(respond?: (r: unknown, n: number) => Reply): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

async function ingest(pattern: string, extra: Record<string, string> = {}): Promise<string> {
  const form = imageForm(await distinctJpeg(seed++));
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  const answer = await call<{ data: { job_id: string } }>(svc.api, 'POST', `/patterns/${pattern}/ingest`, {
    key,
    form,
  });
  expect(answer.status, answer.text).toBe(202);
  return answer.body.data.job_id;
}

/** The job's only event once `done` holds for it (polled; bounded at 30 s). */
async function untilEvent(jobId: string, done: (d: Delivery) => boolean): Promise<Delivery> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await call<{ data: Delivery[] }>(svc.api, 'GET', `/jobs/${jobId}/deliveries`, { key });
    expect(answer.status, answer.text).toBe(200);
    const [event] = answer.body.data;
    if (event && done(event)) return event;
    if (Date.now() > deadline) throw new Error(`deliveries of ${jobId}: ${JSON.stringify(answer.body.data)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const replay = (jobId: string, deliveryId: string, as = key) =>
  call<{ data: Delivery }>(svc.api, 'POST', `/jobs/${jobId}/deliveries/${deliveryId}/replay`, { key: as });

const forJob = (r: Receiver, jobId: string) => r.received.filter((x) => x.json.data?.job_id === jobId);

/** Verifies a delivery signed with the service secret; throws when it does not verify. */
const verify = (got: { body: string; headers: Record<string, unknown> }) =>
  new Webhook(SERVICE_SECRET, { format: 'raw' }).verify(got.body, got.headers as Record<string, string>);

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 20, maxMs: 20 },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    webhooks: {
      allowPrivate: true,
      pollMs: 50,
      timeoutMs: 2_000,
      schedule: { delaysMs: DELAYS, jitter: 0 },
      secret: SERVICE_SECRET,
    },
  });
  key = await svc.key([
    'patterns:write',
    'patterns:ingest',
    'jobs:read',
    'webhooks:write',
    'webhooks:delete',
  ]);
  const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
    key,
    json: { name: 'Receipt', instructions: 'Read it', json_schema: { merchant: 'string', total: 'number' } },
  });
  patternId = created.body.data.id;
});

afterAll(async () => {
  for (const r of receivers) await r.close();
  await svc?.close();
  await sim?.close();
});

describe("replay of an ingest's own webhook_url", () => {
  it('sends the same message again: same webhook-id and body, new timestamp, verified; logged under replay 1', async () => {
    const r = await receiver();
    const jobId = await ingest(patternId, { webhook_url: r.url });
    const first = await untilEvent(jobId, (d) => d.status === 'delivered');
    expect(first).toMatchObject({ source: 'job', endpoint_id: null, replays: 0, replayed_at: null });
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the next timestamp is another second

    const answer = await replay(jobId, first.id);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body.data).toMatchObject({ id: first.id, status: 'pending', replays: 1 });
    await r.until(() => forJob(r, jobId).length === 2);
    const [a, b] = forJob(r, jobId);
    expect(verify(a!)).toMatchObject({ type: 'job.succeeded', data: { job_id: jobId } });
    expect(verify(b!)).toMatchObject({ type: 'job.succeeded', data: { job_id: jobId } });
    expect(b!.headers['webhook-id']).toBe(first.id);
    expect(b!.headers['webhook-id']).toBe(a!.headers['webhook-id']);
    expect(b!.body).toBe(a!.body);
    expect(Number(b!.headers['webhook-timestamp'])).toBeGreaterThan(Number(a!.headers['webhook-timestamp']));
    expect(b!.headers['webhook-signature']).not.toBe(a!.headers['webhook-signature']);

    const after = await untilEvent(jobId, (d) => d.status === 'delivered' && d.log.length === 2);
    expect(after.replays).toBe(1);
    expect(after.replayed_at).not.toBeNull();
    expect(after.log.map((l) => [l.attempt, l.replay, l.response_status])).toEqual([
      [1, 0, 200],
      [2, 1, 200],
    ]);
  });
});

describe("replay of a pattern's webhook_url", () => {
  it('an event that used up its schedule gets a fresh one: failed, replayed, retried, delivered', async () => {
    let healthy = false;
    let failedAfterReplay = 0;
    const r = await receiver(() => {
      if (!healthy) return { status: 500, body: 'down' };
      // The replay's first attempt fails too: only a fresh schedule retries it.
      if (failedAfterReplay++ === 0) return { status: 503, body: 'warming up' };
      return { status: 200 };
    });
    const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
      key,
      json: {
        name: 'Hooked receipt',
        instructions: 'Read it',
        json_schema: { merchant: 'string', total: 'number' },
        webhook_url: r.url,
      },
    });
    expect(created.status, created.text).toBe(201);
    const jobId = await ingest(created.body.data.id);
    const failed = await untilEvent(jobId, (d) => d.status === 'failed');
    expect(failed).toMatchObject({ source: 'pattern', endpoint_id: null, attempts: DELAYS.length + 1 });

    healthy = true;
    expect((await replay(jobId, failed.id)).status).toBe(202);
    const delivered = await untilEvent(jobId, (d) => d.status === 'delivered');
    expect(delivered.log.map((l) => [l.attempt, l.replay, l.response_status])).toEqual([
      [1, 0, 500],
      [2, 0, 500],
      [3, 1, 503],
      [4, 1, 200],
    ]);
    const got = forJob(r, jobId);
    expect(got).toHaveLength(4);
    for (const g of got) expect(verify(g)).toMatchObject({ data: { job_id: jobId } });
    expect(new Set(got.map((g) => g.headers['webhook-id']))).toEqual(new Set([failed.id]));
  });
});

describe('what replay refuses', () => {
  it('needs webhooks:write; 404 for an unknown job, an unknown delivery, a delivery of another job', async () => {
    const r = await receiver();
    const jobId = await ingest(patternId, { webhook_url: r.url });
    const other = await ingest(patternId);
    const event = await untilEvent(jobId, (d) => d.status === 'delivered');
    await waitForJob(svc.api, key, other);

    const reader = await svc.key(['jobs:read']);
    const denied = await replay(jobId, event.id, reader);
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { details: { required_scope: 'webhooks:write' } } });

    const noJob = await replay('00000000-0000-4000-8000-000000000000', event.id);
    expect(noJob.status).toBe(404);
    expect(noJob.body).toMatchObject({ error: { code: 'job_not_found' } });
    const notOfIt = await replay(other, event.id);
    expect(notOfIt.status).toBe(404);
    expect(notOfIt.body).toMatchObject({ error: { code: 'delivery_not_found' } });
    const unknown = await replay(jobId, '00000000-0000-4000-8000-000000000000');
    expect(unknown.body).toMatchObject({ error: { code: 'delivery_not_found' } });
    expect(forJob(r, jobId)).toHaveLength(1);
  });

  it('passes the address guard again: a service that refuses private addresses does not replay to one', async () => {
    const r = await receiver();
    const jobId = await ingest(patternId, { webhook_url: r.url });
    const event = await untilEvent(jobId, (d) => d.status === 'delivered');
    // A second API on the same state, which (unlike the first) refuses private addresses.
    const guarded = await startTestService({
      shared: { database: svc.database, prefix: svc.prefix },
      allowPrivateUrls: false,
      workers: 0,
      webhooks: false,
    });
    try {
      const refused = await call(guarded.api, 'POST', `/jobs/${jobId}/deliveries/${event.id}/replay`, {
        key,
      });
      expect(refused.status, refused.text).toBe(400);
      expect(refused.body).toMatchObject({
        error: { code: 'invalid_webhook_url', details: { field: 'url' } },
      });
      expect(JSON.stringify(refused.body)).toContain('loopback');
    } finally {
      await guarded.close();
    }
    const unchanged = await untilEvent(jobId, () => true);
    expect(unchanged).toMatchObject({ status: 'delivered', replays: 0 });
    expect(forJob(r, jobId)).toHaveLength(1);
  });

  it("an event of a deleted endpoint is not replayed as the ingest's own (409); a live endpoint's is, with its secret", async () => {
    const r = await receiver();
    const registered = await call<{ data: { id: string; secret: string } }>(svc.api, 'POST', '/webhooks', {
      key: await svc.key(['webhooks:write']),
      json: { url: `${r.url}?endpoint` },
    });
    expect(registered.status, registered.text).toBe(201);
    const endpoint = registered.body.data;
    const jobId = await ingest(patternId);
    const event = await untilEvent(jobId, (d) => d.status === 'delivered');
    expect(event).toMatchObject({ source: 'endpoint', endpoint_id: endpoint.id });

    expect((await replay(jobId, event.id)).status).toBe(202);
    await r.until(() => forJob(r, jobId).length === 2);
    for (const got of forJob(r, jobId))
      expect(
        new Webhook(endpoint.secret).verify(got.body, got.headers as Record<string, string>),
      ).toBeTruthy();

    await untilEvent(jobId, (d) => d.status === 'delivered' && d.log.length === 2);
    expect((await call(svc.api, 'DELETE', `/webhooks/${endpoint.id}`, { key })).status).toBe(200);
    const orphan = await untilEvent(jobId, () => true);
    expect(orphan).toMatchObject({ endpoint_id: null, source: 'endpoint' });
    const refused = await replay(jobId, event.id);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'webhook_disabled' } });
    expect(forJob(r, jobId)).toHaveLength(2);
  });
});
