/**
 * The live dashboard in real Chromium: a service with a worker on the simulator, a few
 * jobs (one refused by the provider), the page unlocked with a jobs:read key. No console
 * errors, every chart drawn with data, and the figures equal to those computed here from
 * the jobs table; it updates itself when more jobs finish. A key without jobs:read sees
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestRank } from '../../src/metrics/latency.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { type BrowserSession, chartsOf, figuresOf, openBrowser } from '../support/browser.js';
import { tempDir } from '../support/images.js';
import { startTestService, type TestService } from '../support/service.js';

let sim: Simulator;
let svc: TestService;
let browser: BrowserSession | undefined;
let ingestKey: string;
let patternId: string;

async function ingest(seed: number): Promise<string> {
  const answer = await call<{ data: { job_id: string } }>(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
    key: ingestKey,
    form: imageForm(await distinctJpeg(seed)),
  });
  return answer.body.data.job_id;
}

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 30, maxMs: 120 },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    concurrency: 2,
  });
  ingestKey = await svc.key(['patterns:write', 'patterns:ingest', 'jobs:read']);
  const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
    key: ingestKey,
    json: {
      name: 'Receipt',
      instructions: 'Read the receipt',
      json_schema: { merchant: 'string', total: 'number' },
    },
  });
  patternId = created.body.data.id;
  sim.inject('bad-request', 1); // one job fails for good
  const ids: string[] = [];
  for (let seed = 1; seed <= 6; seed++) ids.push(await ingest(500 + seed));
  for (const id of ids) await waitForJob(svc.api, ingestKey, id);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await svc?.close();
  await sim?.close();
});

interface JobRow {
  status: string;
  latency_ms: number | null;
  cost_usd: number | null;
}

async function jobRows(): Promise<JobRow[]> {
  return (await svc.store.db
    .selectFrom('jobs')
    .select(['status', 'latency_ms', 'cost_usd'])
    .execute()) as JobRow[];
}

describe('serve /dashboard', () => {
  it('shows the service live, equal to the jobs table, and updates itself', async () => {
    browser = await openBrowser();
    const { page } = browser;
    await page.goto(`${svc.url}/dashboard`);
    expect(await page.getAttribute('body', 'data-state')).toBe('locked');
    await page.fill('#key', ingestKey);
    await page.click('#unlock button');
    await page.waitForSelector('body[data-state="live"]');

    const rows = await jobRows();
    const finished = rows.filter((r) => r.status === 'succeeded' || r.status === 'failed');
    const succeeded = rows.filter((r) => r.status === 'succeeded').length;
    const latencies = finished.map((r) => r.latency_ms ?? 0).sort((a, b) => a - b);
    const cost = finished.reduce((n, r) => n + (r.cost_usd ?? 0), 0);
    expect(finished).toHaveLength(6);
    expect(succeeded).toBe(5);
    const shown = await figuresOf(page);
    expect(shown.jobs?.value).toBe(6);
    expect(shown.success_rate?.value).toBeCloseTo(succeeded / 6, 12);
    expect(shown.success_rate?.text).toBe(`${((succeeded / 6) * 100).toFixed(1)} %`);
    expect(shown.p50?.value).toBe(nearestRank(latencies, 50));
    expect(shown.p95?.value).toBe(nearestRank(latencies, 95));
    expect(shown.p99?.value).toBe(nearestRank(latencies, 99));
    expect(shown.p95?.text).toBe(`${nearestRank(latencies, 95).toLocaleString('en-US')} ms`);
    expect(shown.cost_usd?.value).toBeCloseTo(cost, 10);
    expect(shown.queue_depth?.value).toBe(0);
    expect(await page.locator('#failures tr[data-job]').count()).toBe(1);
    expect(await page.textContent('#failures')).toMatch(/BAD_REQUEST/);

    const visible = (await chartsOf(page)).filter((c) => c.drawn);
    // Throughput and latency have data; the queue is empty and no webhooks were set up:
    // those boxes say so instead of drawing empty charts.
    expect(visible.map((c) => c.id).sort()).toEqual(['chart-latency', 'chart-throughput']);
    expect(await page.isVisible('#queue .none')).toBe(true);
    for (const chart of visible) {
      const total = chart.datasets.flatMap((d) => d.data).reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(0);
      expect(chart.width).toBeGreaterThan(100);
    }
    const throughput = visible.find((c) => c.id === 'chart-throughput');
    expect(throughput?.datasets.find((d) => d.label === 'succeeded')?.data.reduce((a, b) => a + b, 0)).toBe(
      5,
    );
    expect(throughput?.datasets.find((d) => d.label === 'failed')?.data.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await page.isVisible('#webhooks .none')).toBe(true);

    // It updates itself.
    await waitForJob(svc.api, ingestKey, await ingest(777));
    await page.waitForSelector('[data-figure="jobs"][data-value="7"]', { timeout: 15_000 });

    expect(browser.errors).toEqual([]);
    const dir = await tempDir('visionpipe-dashboard-shot-');
    await browser.screenshot(dir, 'dashboard.png');
  }, 120_000);

  it('shows nothing to a key without jobs:read', async () => {
    const writer = await svc.key(['patterns:write']);
    const denied = await call(svc.api, 'GET', '/dashboard', { key: writer });
    expect(denied.status).toBe(403);
    const session = await openBrowser();
    try {
      await session.page.goto(`${svc.url}/dashboard`);
      await session.page.fill('#key', writer);
      await session.page.click('#unlock button');
      await session.page.waitForSelector('body[data-state="denied"]');
      expect(await session.page.textContent('#message')).toMatch(/jobs:read/);
      expect(await session.page.isVisible('main')).toBe(false);
    } finally {
      await session.close();
    }
  }, 60_000);
});
