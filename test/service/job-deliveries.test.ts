/**
 * `GET /jobs/{id}/deliveries`: the delivery log of an ingest's own `webhook_url` (which has
 * no registered endpoint to list it), against a real service, worker and receiver: the
 * event with every attempt (a 500 first, then a 200), `endpoint_id` null; 404 for an
 * unknown job; the `jobs:read` scope required.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { startServer, type TestServer } from '../support/http.js';
import { startTestService, type TestService } from '../support/service.js';

let sim: Simulator;
let svc: TestService;
let receiver: TestServer;
let key: string;
let patternId: string;
let hits = 0;

interface Delivery {
  status: string;
  endpoint_id: string | null;
  event: string;
  url: string;
  log: Array<{ attempt: number; response_status: number | null }>;
}

beforeAll(async () => {
  sim = await startSimulator({ latency: { minMs: 20, maxMs: 20 }, answer: () => ({ total: 1 }) });
  receiver = await startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      res.writeHead(hits === 1 ? 500 : 200).end(hits === 1 ? 'busy' : 'ok');
    });
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    webhooks: { allowPrivate: true, pollMs: 50, schedule: { delaysMs: [50, 50], jitter: 0 } },
  });
  key = await svc.key(['patterns:write', 'patterns:ingest', 'jobs:read']);
  const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
    key,
    json: { name: 'Total', instructions: 'Read the total', json_schema: { total: 'number' } },
  });
  patternId = created.body.data.id;
});

afterAll(async () => {
  await svc?.close();
  await sim?.close();
  await receiver?.close();
});

describe('GET /jobs/{id}/deliveries', () => {
  it("lists the events to an ingest's webhook_url with every attempt", async () => {
    const form = imageForm(await distinctJpeg(501));
    form.append('webhook_url', `${receiver.url}/hook`);
    const answer = await call<{ data: { job_id: string } }>(
      svc.api,
      'POST',
      `/patterns/${patternId}/ingest`,
      {
        key,
        form,
      },
    );
    expect(answer.status).toBe(202);
    const jobId = answer.body.data.job_id;
    await waitForJob(svc.api, key, jobId);
    let deliveries: Delivery[] = [];
    for (let i = 0; i < 300; i++) {
      const log = await call<{ data: Delivery[] }>(svc.api, 'GET', `/jobs/${jobId}/deliveries`, { key });
      expect(log.status).toBe(200);
      deliveries = log.body.data;
      if (deliveries[0]?.status === 'delivered') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      status: 'delivered',
      endpoint_id: null,
      event: 'job.succeeded',
      url: `${receiver.url}/hook`,
    });
    expect(deliveries[0]!.log.map((a) => a.response_status)).toEqual([500, 200]);
  });

  it('404 for an unknown job, 403 without jobs:read', async () => {
    const missing = await call(svc.api, 'GET', '/jobs/00000000-0000-4000-8000-000000000000/deliveries', {
      key,
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ success: false, error: { code: 'job_not_found' } });
    const narrow = await svc.key(['patterns:read']);
    const denied = await call(svc.api, 'GET', '/jobs/00000000-0000-4000-8000-000000000000/deliveries', {
      key: narrow,
    });
    expect(denied.status).toBe(403);
  });
});
