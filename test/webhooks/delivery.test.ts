/**
 * Webhooks from a real service (PostgreSQL, Redis, BullMQ, the simulator as provider) to
 * real receivers on 127.0.0.1, with the retry schedule scaled down (300 ms, 600 ms,
 * 900 ms instead of 5 s … 24 h) and a 400 ms timeout instead of 15 s:
 * registration routes; signatures checked by the `standardwebhooks` package and by
 * ImgGo's own receiver example (its Flask app, run as it is); a receiver that fails,
 * times out, answers 429 with Retry-After, then 410; the schedule running out; the
 * delivery log; replay; per-ingest URLs signed with the service secret.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe, type WebhookDeliveryEvent } from '../../src/observe/events.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { freePort } from '../support/redis.js';
import { startTestService, type TestService } from '../support/service.js';
import { type Receiver, type Reply, startReceiver } from '../support/webhook-receiver.js';

const DELAYS = [300, 600, 900];
const TIMEOUT_MS = 400;
const SERVICE_SECRET = 'service-secret-0123456789';
const IMGGO_RECEIVER = '/work/shared/imggo-api/examples/webhooks/webhook-example.py';

let sim: Simulator;
let svc: TestService;
let key: string;
let patternId: string;
let seed = 100;
const receivers: Receiver[] = [];

interface Endpoint {
  id: string;
  url: string;
  secret: string;
  events: string[];
  is_active: boolean;
  disabled_reason: string | null;
}
interface Delivery {
  id: string;
  job_id: string;
  status: string;
  attempts: number;
  log: Array<{ attempt: number; response_status: number | null; error: string | null }>;
}

async function receiver(respond?: (r: unknown, n: number) => Reply): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

async function register(url: string, extra: Record<string, unknown> = {}): Promise<Endpoint> {
  const answer = await call<{ data: Endpoint }>(svc.api, 'POST', '/webhooks', {
    key,
    json: { url, ...extra },
  });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.data;
}

async function ingest(extra: Record<string, string> = {}): Promise<string> {
  const form = imageForm(await distinctJpeg(seed++));
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  const answer = await call<{ data: { job_id: string } }>(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
    key,
    form,
  });
  expect(answer.status, answer.text).toBe(202);
  return answer.body.data.job_id;
}

async function deliveries(endpointId: string): Promise<Delivery[]> {
  const answer = await call<{ data: Delivery[] }>(svc.api, 'GET', `/webhooks/${endpointId}/deliveries`, {
    key,
  });
  expect(answer.status, answer.text).toBe(200);
  return answer.body.data;
}

async function untilDelivery(
  endpointId: string,
  jobId: string,
  done: (d: Delivery) => boolean,
): Promise<Delivery> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = (await deliveries(endpointId)).find((d) => d.job_id === jobId);
    if (found && done(found)) return found;
    if (Date.now() > deadline) throw new Error(`delivery of ${jobId}: ${JSON.stringify(found)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const remove = (id: string) => call(svc.api, 'DELETE', `/webhooks/${id}`, { key });
const forJob = (r: Receiver, jobId: string) => r.received.filter((x) => x.json.data?.job_id === jobId);

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 50, maxMs: 50 },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    concurrency: 4,
    webhooks: {
      allowPrivate: true,
      pollMs: 50,
      timeoutMs: TIMEOUT_MS,
      schedule: { delaysMs: DELAYS, jitter: 0.2 },
      secret: SERVICE_SECRET,
    },
  });
  key = await svc.key(['admin:all']);
  const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
    key,
    json: {
      name: 'Receipt',
      instructions: 'Read the receipt',
      json_schema: { merchant: 'string', total: 'number' },
    },
  });
  patternId = created.body.data.id;
});

afterAll(async () => {
  for (const r of receivers) await r.close();
  await svc?.close();
  await sim?.close();
});

describe('webhook endpoints', () => {
  it('registers, lists with the secret hidden, shows, deletes; refuses bad events, short secrets, missing scopes', async () => {
    const created = await register('http://127.0.0.1:9/hook');
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.events).toEqual(['job.succeeded', 'job.failed']);
    expect(created.is_active).toBe(true);
    const listed = await call<{ data: Endpoint[] }>(svc.api, 'GET', '/webhooks', { key });
    const mine = listed.body.data.find((e) => e.id === created.id);
    expect(mine?.secret).toBe(`…${created.secret.slice(-4)}`);
    const one = await call<{ data: Endpoint }>(svc.api, 'GET', `/webhooks/${created.id}`, { key });
    expect(one.body.data.url).toBe('http://127.0.0.1:9/hook');
    const aliased = await register('http://127.0.0.1:9/other', {
      events: ['job.completed'],
      secret: 'x'.repeat(16),
    });
    expect(aliased.events).toEqual(['job.succeeded']);
    expect(aliased.secret).toBe('x'.repeat(16));

    const badEvent = await call(svc.api, 'POST', '/webhooks', {
      key,
      json: { url: 'http://127.0.0.1:9/', events: ['job.done'] },
    });
    expect(badEvent.status).toBe(400);
    expect(badEvent.text).toContain('job.done');
    const shortSecret = await call(svc.api, 'POST', '/webhooks', {
      key,
      json: { url: 'http://127.0.0.1:9/', secret: 'short' },
    });
    expect(shortSecret.status).toBe(400);
    // whsec_ secrets: base64 of a 24-64 byte key (Standard Webhooks), as `new Webhook(secret)` reads them.
    const whsec = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;
    for (const secret of ['whsec_!!!notbase64!!!!!!', 'whsec_AAAAAAAAAA', whsec(16), whsec(23), whsec(65)]) {
      const refused = await call(svc.api, 'POST', '/webhooks', {
        key,
        json: { url: 'http://127.0.0.1:9/', secret },
      });
      expect(refused.status, secret).toBe(400);
      expect(refused.body, secret).toMatchObject({
        error: { code: 'validation_error', details: { field: 'secret' } },
      });
    }
    for (const bytes of [24, 64]) {
      const secret = whsec(bytes);
      expect(() => new Webhook(secret)).not.toThrow();
      const accepted = await register('http://127.0.0.1:9/whsec', { secret });
      expect(accepted.secret).toBe(secret);
      expect((await remove(accepted.id)).status).toBe(200);
    }
    const notUrl = await call(svc.api, 'POST', '/webhooks', { key, json: { url: 'ftp://127.0.0.1/' } });
    expect(notUrl.body).toMatchObject({ error: { code: 'invalid_webhook_url' } });
    const reader = await svc.key(['webhooks:read']);
    const forbidden = await call(svc.api, 'POST', '/webhooks', {
      key: reader,
      json: { url: 'http://127.0.0.1:9/' },
    });
    expect(forbidden.status).toBe(403);

    expect((await remove(created.id)).status).toBe(200);
    expect((await remove(aliased.id)).status).toBe(200);
    const gone = await call(svc.api, 'GET', `/webhooks/${created.id}`, { key });
    expect(gone.status).toBe(404);
    expect((await remove(created.id)).status).toBe(404);
  });
});

describe('delivery', () => {
  it('signs every delivery: standardwebhooks verifies it, ImgGo’s HMAC matches, a changed body fails', async () => {
    const r = await receiver();
    const endpoint = await register(r.url);
    const jobId = await ingest();
    await r.until(() => forJob(r, jobId).length === 1);
    const [got] = forJob(r, jobId);
    const headers = got!.headers as Record<string, string>;
    const verified = new Webhook(endpoint.secret).verify(got!.body, headers) as {
      data: Record<string, unknown>;
    };
    expect(verified).toMatchObject({
      type: 'job.succeeded',
      event: 'job.succeeded',
      data: {
        job_id: jobId,
        pattern_id: patternId,
        status: 'succeeded',
        result: { merchant: 'Blue Bottle', total: 8.99 },
      },
    });
    expect(headers['webhook-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hex = createHmac('sha256', endpoint.secret).update(got!.body).digest('hex');
    expect(headers['x-imggo-signature']).toBe(`sha256=${hex}`);
    expect(() => new Webhook(endpoint.secret).verify(got!.body.replace('8.99', '0.01'), headers)).toThrow();
    const stale = { ...headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 600) };
    expect(() => new Webhook(endpoint.secret).verify(got!.body, stale)).toThrow(/too old/);
    // The receiver has it; the attempt is recorded once its answer is read.
    const delivery = await untilDelivery(endpoint.id, jobId, (d) => d.status !== 'pending');
    expect(delivery).toMatchObject({
      job_id: jobId,
      status: 'delivered',
      attempts: 1,
      log: [{ response_status: 200 }],
    });
    await remove(endpoint.id);
  });

  it("ImgGo's receiver example (its Flask app) accepts the signature: 200 with its secret, 401 with another", async () => {
    const port = await freePort();
    const secret = 'imggo-example-secret-0123';
    const flask: ChildProcess = spawn(
      'python3',
      [
        '-c',
        'import importlib.util, sys\n' +
          'spec = importlib.util.spec_from_file_location("receiver", sys.argv[1])\n' +
          'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n' +
          'm.app.run(host="127.0.0.1", port=int(sys.argv[2]))',
        IMGGO_RECEIVER,
        String(port),
      ],
      {
        env: { ...process.env, WEBHOOK_SECRET: secret },
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: path.dirname(IMGGO_RECEIVER),
      },
    );
    try {
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`flask did not start: ${output}`)), 20_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Running on')) {
            clearTimeout(timer);
            resolve();
          }
        };
        flask.stdout?.on('data', onData);
        flask.stderr?.on('data', onData);
      });
      const right = await register(`http://127.0.0.1:${port}/webhook`, { secret });
      const wrong = await register(`http://127.0.0.1:${port}/webhook?wrong`, {
        secret: 'another-secret-0123456',
      });
      const jobId = await ingest();
      const accepted = await untilDelivery(right.id, jobId, (d) => d.status === 'delivered');
      expect(accepted.log.map((l) => l.response_status)).toEqual([200]);
      const refused = await untilDelivery(wrong.id, jobId, (d) => d.log.length >= 1);
      expect(refused.log[0]!.response_status).toBe(401);
      expect(output).toContain(`Received webhook: job.succeeded for job ${jobId}`);
      await remove(right.id);
      await remove(wrong.id);
    } finally {
      flask.kill('SIGKILL');
    }
  });

  it('a failing receiver gets retries on the schedule, with the same webhook-id; the log has every attempt', async () => {
    const r = await receiver((_x, n) => (n <= 2 ? { status: 500, body: 'boom' } : { status: 200 }));
    const events: WebhookDeliveryEvent[] = [];
    const unsubscribe = subscribe('webhook', (e) => events.push(e));
    const endpoint = await register(r.url);
    const jobId = await ingest();
    const delivery = await untilDelivery(endpoint.id, jobId, (d) => d.status === 'delivered');
    unsubscribe();
    expect(delivery.log.map((l) => l.response_status)).toEqual([500, 500, 200]);
    // One metric event per attempt: outcome, status, latency.
    const mine = events.filter((e) => e.jobId === jobId);
    expect(mine.map((e) => [e.outcome, e.status, e.attempt])).toEqual([
      ['retrying', 500, 1],
      ['retrying', 500, 2],
      ['delivered', 200, 3],
    ]);
    expect(mine.every((e) => e.event === 'job.succeeded' && e.latencyMs >= 0)).toBe(true);
    const got = forJob(r, jobId);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(DELAYS[0]! * 0.8);
    expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(DELAYS[1]! * 0.8);
    await remove(endpoint.id);
  });

  it('a receiver that does not answer in time: the attempt is cut at the timeout and retried', async () => {
    const r = await receiver((_x, n) => (n === 1 ? 'hang' : { status: 204 }));
    const endpoint = await register(r.url);
    const jobId = await ingest();
    const delivery = await untilDelivery(endpoint.id, jobId, (d) => d.status === 'delivered');
    expect(delivery.log[0]).toMatchObject({
      response_status: null,
      error: `no answer within ${TIMEOUT_MS} ms`,
    });
    expect(delivery.log[1]).toMatchObject({ response_status: 204 });
    await remove(endpoint.id);
  });

  it('429 with Retry-After waits what the receiver asked, not the schedule', async () => {
    const r = await receiver((_x, n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 },
    );
    const endpoint = await register(r.url);
    const jobId = await ingest();
    await untilDelivery(endpoint.id, jobId, (d) => d.status === 'delivered');
    const got = forJob(r, jobId);
    expect(got).toHaveLength(2);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(1900);
    await remove(endpoint.id);
  });

  it('410 Gone disables the endpoint: no more events go to it, and its deliveries cannot be replayed', async () => {
    const r = await receiver(() => ({ status: 410 }));
    const endpoint = await register(r.url);
    const first = await ingest();
    const delivery = await untilDelivery(endpoint.id, first, (d) => d.status === 'disabled');
    expect(delivery.attempts).toBe(1);
    const shown = await call<{ data: Endpoint }>(svc.api, 'GET', `/webhooks/${endpoint.id}`, { key });
    expect(shown.body.data).toMatchObject({
      is_active: false,
      disabled_reason: `${r.url} answered 410 Gone`,
    });
    const second = await ingest();
    await waitForJob(svc.api, key, second);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(forJob(r, second)).toHaveLength(0);
    const replay = await call(svc.api, 'POST', `/webhooks/${endpoint.id}/deliveries/${delivery.id}/replay`, {
      key,
    });
    expect(replay.status).toBe(409);
    await remove(endpoint.id);
  });

  it('gives up after the last scheduled attempt: failed, with every attempt logged', async () => {
    const r = await receiver(() => ({ status: 502 }));
    const endpoint = await register(r.url);
    const jobId = await ingest();
    const delivery = await untilDelivery(endpoint.id, jobId, (d) => d.status === 'failed');
    expect(delivery.attempts).toBe(DELAYS.length + 1);
    expect(delivery.log.map((l) => l.response_status)).toEqual([502, 502, 502, 502]);
    expect(forJob(r, jobId)).toHaveLength(4);
    await remove(endpoint.id);
  });

  it('replay sends a delivered event again now, with the same webhook-id', async () => {
    const r = await receiver();
    const endpoint = await register(r.url);
    const jobId = await ingest();
    const delivery = await untilDelivery(endpoint.id, jobId, (d) => d.status === 'delivered');
    const replay = await call<{ data: { status: string } }>(
      svc.api,
      'POST',
      `/webhooks/${endpoint.id}/deliveries/${delivery.id}/replay`,
      { key },
    );
    expect(replay.status).toBe(202);
    await r.until(() => forJob(r, jobId).length === 2);
    const [a, b] = forJob(r, jobId);
    expect(b!.headers['webhook-id']).toBe(a!.headers['webhook-id']);
    expect(b!.body).toBe(a!.body);
    const unknown = await call(svc.api, 'POST', `/webhooks/${endpoint.id}/deliveries/${endpoint.id}/replay`, {
      key,
    });
    expect(unknown.status).toBe(404);
    // The same replay function as the job route's (webhooks/replay.ts): same code, owner named.
    expect(unknown.body).toMatchObject({
      error: { code: 'delivery_not_found', message: expect.stringContaining(`webhook '${endpoint.id}'`) },
    });
    await remove(endpoint.id);
  });

  it("an ingest's own webhook_url gets its event, signed with the service secret", async () => {
    const r = await receiver();
    const jobId = await ingest({ webhook_url: r.url });
    await r.until(() => forJob(r, jobId).length === 1);
    const [got] = r.received;
    const headers = got!.headers as Record<string, string>;
    expect(new Webhook(SERVICE_SECRET, { format: 'raw' }).verify(got!.body, headers)).toBeTruthy();
    expect(headers['x-imggo-signature']).toBe(
      `sha256=${createHmac('sha256', SERVICE_SECRET).update(got!.body).digest('hex')}`,
    );
  });
});

describe('the address guard', () => {
  it('refuses loopback, private and metadata webhook URLs unless private URLs are allowed', async () => {
    const guarded = await startTestService({ allowPrivateUrls: false, workers: 0, webhooks: false });
    try {
      const admin = await guarded.key(['admin:all']);
      for (const url of [
        'http://127.0.0.1:8080/hook',
        'http://169.254.169.254/latest',
        'http://10.1.2.3/',
        'http://[::1]/',
        'http://localhost/',
      ]) {
        const answer = await call(guarded.api, 'POST', '/webhooks', { key: admin, json: { url } });
        expect(answer.status, url).toBe(400);
        expect(answer.body, url).toMatchObject({ error: { code: 'invalid_webhook_url' } });
      }
      const pattern = await call<{ data: { id: string } }>(guarded.api, 'POST', '/patterns', {
        key: admin,
        json: {
          name: 'P',
          instructions: 'x',
          json_schema: { a: 'string' },
          webhook_url: 'http://192.168.0.1/',
        },
      });
      expect(pattern.body).toMatchObject({ error: { code: 'invalid_webhook_url' } });
    } finally {
      await guarded.close();
    }
  });
});
