/**
 * Alerts as an on-call team gets them: a receiver on 127.0.0.1, a run on the simulator
 * whose provider goes down for a while and comes back. The success-rate alert fires
 * once while the outage drags the window down and resolves once after, never twice
 * within the interval. A cost budget stops the run before it is exceeded (with an
 * alert), and running again with a larger budget resumes without paying twice.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlertPayload } from '../../src/metrics/alert-webhooks.js';
import { ALERT_DEFAULTS, AlertMonitor } from '../../src/metrics/alerts.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

interface Received {
  at: number;
  body: AlertPayload;
}

async function receiver(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      received.push({ at: Date.now(), body: JSON.parse(body) as AlertPayload });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/alerts`, received, server };
}

let work: string;
let simulator: Simulator | undefined;
let server: Server | undefined;

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function images(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const jpeg = await sharp({
      create: {
        width: 640,
        height: 480,
        channels: 3,
        background: { r: i * 4, g: 255 - i * 3, b: (i * 37) % 256 },
      },
    })
      .jpeg()
      .toBuffer();
    await writeFile(path.join(dir, `img-${String(i).padStart(3, '0')}.jpg`), jpeg);
  }
}

beforeAll(async () => {
  work = await tempDir('visionpipe-alerts-');
  await writeFile(
    path.join(work, 'pattern.json'),
    JSON.stringify({
      name: 'doc',
      format: 'json',
      instructions: 'Read.',
      json_schema: { title: 'string', total: 'number' },
    }),
  );
});

const readRecords = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunRecord);

describe('alerts', () => {
  it('fire when an outage drags the success rate down and resolve when it recovers, once per interval', async () => {
    const dir = path.join(work, 'outage');
    await images(dir, 70);
    let billed = 0;
    const sim = await startSimulator({
      latency: { minMs: 20, maxMs: 40 },
      answer: () => ({ title: 'A', total: 1 }),
      onBilled: () => {
        billed++;
        if (billed === 8) sim.inject('5xx', 8); // the outage: the next 8 calls fail
      },
    });
    simulator = sim;
    const hook = await receiver();
    server = hook.server;
    const run = await runCli(
      [
        'run',
        dir,
        '-p',
        'pattern.json',
        '--provider',
        'openai',
        '--model',
        'gpt-4o-mini',
        '--base-url',
        sim.baseUrls.openai,
        '--concurrency',
        '1',
        '--max-attempts',
        '1',
        '--no-progress',
        '--json',
        '--out',
        'outage.jsonl',
        '--cache',
        'off',
        '--alert-webhook',
        hook.url,
        '--alert-window',
        '1s',
        '--alert-min-samples',
        '5',
        '--alert-interval',
        '300ms',
        '--alert-success-rate',
        '0.95',
      ],
      { cwd: work, env: { OPENAI_API_KEY: 'sk-sim-alerts' } },
    );
    expect(run.code).toBe(0);
    const records = await readRecords(path.join(work, 'outage.jsonl'));
    expect(records.filter((r) => r.status === 'error')).toHaveLength(8);
    const messages = hook.received.filter((r) => r.body.condition === 'success_rate');
    expect(messages.map((m) => m.body.state)).toEqual(['firing', 'resolved']);
    const [firing, resolved] = messages;
    expect(firing?.body.value).toBeLessThan(0.95);
    expect(firing?.body.threshold).toBe(0.95);
    expect(firing?.body.text).toMatch(/FIRING success_rate: success rate \d+\.\d % over the last 1 s/);
    expect(firing?.body.source).toBe('visionpipe');
    expect(resolved?.body.text).toMatch(/RESOLVED success_rate/);
    expect((resolved?.at ?? 0) - (firing?.at ?? 0)).toBeGreaterThanOrEqual(300);
    expect(hook.received.every((r) => r.body.condition !== 'p95_latency')).toBe(true);
  }, 120_000);

  it('never resolve because the window emptied: too few samples is no data, not recovery', () => {
    let now = 0;
    const sent: string[] = [];
    const monitor = new AlertMonitor(
      {
        minSuccessRate: 0,
        maxP95Ms: 15_000,
        windowMs: 30_000,
        minSamples: 3,
        intervalMs: 5_000,
        budgetWarnFraction: 0.8,
      },
      (alert) => sent.push(`${alert.condition} ${alert.state} ${alert.value}`),
      () => now,
    );
    for (let i = 0; i < 3; i++) monitor.image(true, 90_000); // slow: fires
    expect(sent).toEqual(['p95_latency firing 90000']);
    now = 60_000; // the slow images left the window and no new one finished yet
    monitor.evaluate();
    monitor.image(true, 200_000); // one sample, still below minSamples
    expect(sent).toEqual(['p95_latency firing 90000']); // was: resolved at 90 s, above 15 s
    for (let i = 0; i < 3; i++) monitor.image(true, 1_000); // enough fast ones: p95 falls below
    now = 61_000;
    monitor.evaluate();
    expect(sent).toEqual(['p95_latency firing 90000']); // 200 s is still the p95 of 4
    now = 100_000;
    for (let i = 0; i < 3; i++) monitor.image(true, 1_000);
    expect(sent).toEqual(['p95_latency firing 90000', 'p95_latency resolved 1000']);
  });

  it('send at most one message per condition per interval, however often it flaps', () => {
    let now = 0;
    const sent: string[] = [];
    const monitor = new AlertMonitor(
      {
        minSuccessRate: 0.9,
        maxP95Ms: 1e9,
        windowMs: 10_000,
        minSamples: 1,
        intervalMs: 1000,
        budgetWarnFraction: 0.8,
      },
      (alert) => sent.push(`${alert.state}@${now}`),
      () => now,
    );
    monitor.image(false, 10); // fires at 0
    now = 100;
    for (let i = 0; i < 20; i++) monitor.image(true, 10); // recovered within the interval: held back
    expect(sent).toEqual(['firing@0']);
    now = 1000;
    monitor.evaluate();
    expect(sent).toEqual(['firing@0', 'resolved@1000']);
    now = 1100;
    for (let i = 0; i < 30; i++) monitor.image(false, 10); // fails again within the interval
    now = 1900;
    for (let i = 0; i < 300; i++) monitor.image(true, 10); // and recovers before it ends: nothing sent
    now = 2500;
    monitor.evaluate();
    expect(sent).toEqual(['firing@0', 'resolved@1000']);
  });

  it('stop a run before the cost budget is exceeded, and a larger budget resumes it without paying twice', async () => {
    const dir = path.join(work, 'budget');
    await images(dir, 12);
    const paid = new Map<string, number>();
    const sim = await startSimulator({
      latency: { minMs: 20, maxMs: 40 },
      answer: () => ({ title: 'A', total: 1 }),
      onBilled: (event) => paid.set(event.sha256, (paid.get(event.sha256) ?? 0) + 1),
    });
    simulator = sim;
    const hook = await receiver();
    server = hook.server;
    const args = [
      'run',
      dir,
      '-p',
      'pattern.json',
      '--provider',
      'openai',
      '--model',
      'gpt-4o',
      '--base-url',
      sim.baseUrls.openai,
      '--concurrency',
      '3',
      '--no-progress',
      '--json',
      '--out',
      'budget.jsonl',
      '--alert-webhook',
      hook.url,
    ];
    const env = { OPENAI_API_KEY: 'sk-sim-budget' };
    const first = await runCli([...args, '--max-cost-usd', '0.005'], { cwd: work, env });
    expect(first.code).toBe(4); // stopped by the budget: not a success
    const summary = JSON.parse(first.stdout) as {
      cost_usd: number;
      total: number;
      alerts: string[];
      stopped: string;
      not_processed: number;
    };
    expect(summary.stopped).toBe('budget');
    expect(summary.not_processed).toBe(12 - summary.total);
    expect(summary.cost_usd).toBeGreaterThan(0);
    expect(summary.cost_usd).toBeLessThanOrEqual(0.005);
    expect(summary.total).toBeLessThan(12);
    expect(summary.alerts.join('\n')).toMatch(/stopped before exceeding the \$0\.005 budget/);
    const budgetAlerts = hook.received.filter((r) => r.body.condition === 'cost_budget');
    expect(budgetAlerts.map((a) => a.body.state)).toEqual(['firing']);
    // The projection is for the whole run: spent / done × 12, named in the message.
    expect(budgetAlerts[0]?.body.message).toMatch(
      /projected cost \$[\d.]+ \(spent \$[\d.]+ on \d+ of 12 images\)/,
    );

    const second = await runCli([...args, '--max-cost-usd', '1'], { cwd: work, env });
    expect(second.code).toBe(0);
    const records = await readRecords(path.join(work, 'budget.jsonl'));
    expect(records.filter((r) => r.status === 'ok')).toHaveLength(12);
    expect(paid.size).toBe(12);
    expect([...paid.values()].every((n) => n === 1)).toBe(true); // nothing paid twice
  }, 120_000);
});

describe('the cost budget projection', () => {
  const record = (cost: number) => ({ cost_usd: cost, attempts: 1 }) as RunRecord;

  it('projects the run total as spent / done × total, and the alert fires on it', async () => {
    const { CostBudget } = await import('../../src/runs/budget.js');
    const budget = new CostBudget(1);
    for (let i = 0; i < 2; i++) {
      const gate = budget.gate(
        (async function* () {
          yield i;
        })(),
      );
      await gate.next(); // one image let in
      budget.finished(record(0.01));
    }
    // Nothing in flight: spent alone is $0.02, 2 % of the budget.
    expect(budget.projectedUsd).toBeCloseTo(0.02, 12);
    budget.setTotal(100);
    // 2 images cost $0.02: 100 images will cost $1.00.
    expect(budget.projectedUsd).toBeCloseTo((0.02 / 2) * 100, 12);
    const alerts: string[] = [];
    const monitor = new AlertMonitor({ ...ALERT_DEFAULTS, budgetUsd: 1 }, (a) =>
      alerts.push(`${a.state} ${a.value.toFixed(4)} ${a.message}`),
    );
    monitor.cost(budget.projectedUsd, { spentUsd: budget.spentUsd, done: budget.doneCount, total: 100 });
    expect(alerts).toEqual([
      'firing 1.0000 projected cost $1.0000 (spent $0.0200 on 2 of 100 images) is at 100 % of the $1 budget',
    ]);
  });

  it('words the stop from what was spent: an overshoot by images in flight is named, never "before exceeding"', async () => {
    const { CostBudget } = await import('../../src/runs/budget.js');
    const budget = new CostBudget(0.0035);
    const gate = budget.gate(
      (async function* () {
        for (let i = 0; i < 10; i++) yield i;
      })(),
    );
    await gate.next(); // the first image, alone until priced
    budget.finished(record(0.001));
    await gate.next(); // room for two more at $0.001 each ($0.001 + 2 × $0.001 ≤ $0.0035)
    await gate.next();
    expect((await gate.next()).done).toBe(true); // a third would pass the budget: stopped
    expect(budget.stopped).toMatch(/^stopped before exceeding the \$0\.0035 budget: spent \$0\.0010/);
    budget.finished(record(0.0012)); // the two in flight cost more than any before them
    budget.finished(record(0.002));
    expect(budget.stopped).toBe(
      'stopped at the $0.0035 budget: spent $0.0042, $0.0007 over it, from 2 images already in flight when it stopped (images can cost more than any before them)',
    );
  });

  it('stays quiet while the projected total is below 80 % of the budget', () => {
    const alerts: string[] = [];
    const monitor = new AlertMonitor({ ...ALERT_DEFAULTS, budgetUsd: 10 }, (a) => alerts.push(a.message));
    monitor.cost((0.5 / 10) * 150, { spentUsd: 0.5, done: 10, total: 150 }); // $7.50: 75 %
    expect(alerts).toEqual([]);
    monitor.cost((0.6 / 10) * 150, { spentUsd: 0.6, done: 10, total: 150 }); // $9.00: 90 %
    expect(alerts).toEqual([
      'projected cost $9.0000 (spent $0.6000 on 10 of 150 images) is at 90 % of the $10 budget',
    ]);
  });
});

describe('alert receivers', () => {
  it('get one POST per alert when the same URL is given twice (repeated --alert-webhook)', async () => {
    const { AlertSender } = await import('../../src/metrics/alert-webhooks.js');
    const hook = await receiver();
    server = hook.server;
    const sender = new AlertSender([hook.url, hook.url]);
    sender.send({
      condition: 'success_rate',
      state: 'firing',
      message: 'success rate 50.0 % over the last 300 s; threshold 95.0 %',
      value: 0.5,
      threshold: 0.95,
      at: Date.now(),
    });
    await sender.flush();
    expect(hook.received.map((r) => r.body.condition)).toEqual(['success_rate']);
  });
});
