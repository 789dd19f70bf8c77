/**
 * `visionpipe serve` exposes /metrics (no key needed, as scrapers expect): the images
 * its in-process workers finished, the provider calls they made, and the shared
 * queue's depth by state, read with a real exposition-format parser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { startServer } from '../support/http.js';
import { family, scrape, total } from '../support/metrics-scrape.js';
import { startTestService, type TestService } from '../support/service.js';

let sim: Simulator;
let svc: TestService;
let billed = 0;

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 30, maxMs: 60 },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
    onBilled: () => {
      billed++;
    },
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    concurrency: 2,
    // Fast retries, so a refused delivery is retried within the test.
    webhooks: { allowPrivate: true, pollMs: 50, schedule: { delaysMs: [50, 50, 50], jitter: 0 } },
  });
}, 60_000);

afterAll(async () => {
  await svc?.close();
  await sim?.close();
});

describe('serve /metrics', () => {
  it('counts the images its workers finished, their provider calls and the queue', async () => {
    const before = await scrape(`${svc.url}/metrics`);
    const key = await svc.key(['patterns:write', 'patterns:ingest', 'jobs:read']);
    const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
      key,
      json: {
        name: 'Receipt',
        instructions: 'Read the receipt',
        json_schema: { merchant: 'string', total: 'number' },
      },
    });
    const ids: string[] = [];
    for (const seed of [901, 902, 903]) {
      const answer = await call<{ data: { job_id: string } }>(
        svc.api,
        'POST',
        `/patterns/${created.body.data.id}/ingest`,
        {
          key,
          form: imageForm(await distinctJpeg(seed)),
        },
      );
      ids.push(answer.body.data.job_id);
    }
    for (const id of ids) await waitForJob(svc.api, key, id);
    const after = await scrape(`${svc.url}/metrics`);
    const delta = (name: string, match: Record<string, string> = {}) =>
      total(after, name, match) - total(before, name, match);
    expect(delta('visionpipe_images_total', { outcome: 'ok' })).toBe(3);
    expect(delta('visionpipe_provider_requests_total', { provider: 'openai', status_class: '2xx' })).toBe(
      billed,
    );
    expect(delta('visionpipe_tokens_total', { provider: 'openai', type: 'input' })).toBeGreaterThan(0);
    const queue = family(after, 'visionpipe_queue_jobs');
    expect(queue?.type).toBe('GAUGE');
    expect(queue?.metrics.map((m) => m.labels?.state).sort()).toEqual([
      'active',
      'completed',
      'delayed',
      'failed',
      'waiting',
    ]);
    expect(total(after, 'visionpipe_queue_jobs', { state: 'waiting' })).toBe(0);
  }, 120_000);

  it('counts webhook deliveries by outcome: a refused attempt is retrying, the next one delivered', async () => {
    const answers = [503, 204];
    const receiver = await startServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(answers.shift() ?? 204).end());
    });
    try {
      const before = await scrape(`${svc.url}/metrics`);
      const key = await svc.key(['patterns:write', 'patterns:ingest', 'jobs:read']);
      const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
        key,
        json: { name: 'Hooked', instructions: 'Read', json_schema: { merchant: 'string' } },
      });
      const form = imageForm(await distinctJpeg(911));
      form.set('webhook_url', `${receiver.url}/hook`);
      const answer = await call<{ data: { job_id: string } }>(
        svc.api,
        'POST',
        `/patterns/${created.body.data.id}/ingest`,
        { key, form },
      );
      await waitForJob(svc.api, key, answer.body.data.job_id);
      const delta = (after: Awaited<ReturnType<typeof scrape>>, outcome: string) =>
        total(after, 'visionpipe_webhook_deliveries_total', { outcome }) -
        total(before, 'visionpipe_webhook_deliveries_total', { outcome });
      let after = await scrape(`${svc.url}/metrics`);
      for (let i = 0; i < 200 && delta(after, 'delivered') < 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        after = await scrape(`${svc.url}/metrics`);
      }
      expect(family(after, 'visionpipe_webhook_deliveries_total')?.type).toBe('COUNTER');
      expect(delta(after, 'retrying')).toBe(1);
      expect(delta(after, 'delivered')).toBe(1);
      expect(delta(after, 'failed')).toBe(0);
      // The workers' provider calls went through flow control: what it allows is published.
      expect(total(after, 'visionpipe_limiter_concurrency', { provider: 'openai' })).toBeGreaterThanOrEqual(
        1,
      );
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
