/**
 * The run report as a team lead gets it: a real run on the simulator (duplicates, a
 * corrupt file, 429s, a rejected request), `visionpipe report`, and the file opened in
 * real Chromium: no console errors, no network, every chart drawn with data, and the
 * headline figures equal to those computed here from the JSONL.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestRank } from '../../src/metrics/latency.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { type BrowserSession, chartsOf, figuresOf, openBrowser } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';

let simulator: Simulator;
let work: string;
let results: string;
let records: RunRecord[];

const CORPUS = [
  'invoice1.jpg',
  'invoice2.jpg',
  'invoice3.jpg',
  'invoice4.jpg',
  'car-plate1.jpg',
  'inventory1.jpg',
];

beforeAll(async () => {
  simulator = await startSimulator({
    latency: { minMs: 20, maxMs: 400 },
    answer: () => ({ title: 'Invoice', total: 12.5 }),
  });
  work = await tempDir('visionpipe-report-');
  const inputs = path.join(work, 'inputs');
  await import('node:fs/promises').then((fs) => fs.mkdir(inputs));
  for (const name of CORPUS) await copyFile(corpus(name), path.join(inputs, name));
  await copyFile(corpus('invoice1.jpg'), path.join(inputs, 'invoice1-copy.jpg')); // a duplicate
  await writeFile(path.join(inputs, 'broken.jpg'), 'not an image at all'); // fails before any call
  const pattern = path.join(work, 'pattern.json');
  await writeFile(
    pattern,
    JSON.stringify({
      name: 'document',
      format: 'json',
      instructions: 'Read it.',
      json_schema: { title: 'string', total: 'number' },
    }),
  );
  simulator.inject('rate-limit', 3); // retried: visible as 429s and retries
  const run = await runCli(
    [
      'run',
      inputs,
      '-p',
      pattern,
      '--provider',
      'openai',
      '--model',
      'gpt-4o',
      '--base-url',
      simulator.baseUrls.openai,
      '--concurrency',
      '2',
      '--out',
      'results.jsonl',
      '--no-progress',
      '--json',
    ],
    { cwd: work, env: { OPENAI_API_KEY: 'sk-sim-report' } },
  );
  expect(run.stderr).not.toMatch(/error: /);
  expect(run.code).toBe(0);
  results = path.join(work, 'results.jsonl');
  records = (await readFile(results, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunRecord);
}, 120_000);

afterAll(async () => {
  await simulator?.close();
});

describe('visionpipe report', () => {
  let browser: BrowserSession | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('writes one self-contained file whose figures and charts match the JSONL, in real Chromium', async () => {
    const out = path.join(work, 'report.html');
    const made = await runCli(['report', results, '--out', out], { cwd: work });
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/cdn/i);

    // What the JSONL says, computed here.
    const attempted = records.filter((r) => r.status !== 'skipped' && r.attempts > 0);
    const latencies = attempted.map((r) => r.latency_ms).sort((a, b) => a - b);
    const ok = records.filter((r) => r.status === 'ok').length;
    const errors = records.filter((r) => r.status === 'error').length;
    const cost = records.reduce((sum, r) => sum + (r.cost_usd ?? 0), 0);
    expect(records).toHaveLength(CORPUS.length + 2);
    expect(errors).toBeGreaterThan(0);
    expect(records.some((r) => r.cache === 'dedup')).toBe(true);
    expect(records.some((r) => r.attempts > 1 || r.rate_limited.count > 0)).toBe(true);

    browser = await openBrowser();
    const { page } = browser;
    await page.goto(`file://${out}`);
    await page.waitForSelector('canvas');
    const shown = await figuresOf(page);
    expect(shown.images?.value).toBe(records.length);
    expect(shown.images?.text).toBe(String(records.length));
    expect(shown.success_rate?.value).toBeCloseTo(ok / (ok + errors), 3);
    expect(shown.success_rate?.text).toBe(`${((ok / (ok + errors)) * 100).toFixed(1)} %`);
    for (const [name, p] of [
      ['p50', 50],
      ['p95', 95],
      ['p99', 99],
    ] as const) {
      const expected = nearestRank(latencies, p);
      expect(shown[name]?.value, name).toBe(expected);
      expect(shown[name]?.text, name).toBe(`${expected.toLocaleString('en-US')} ms`);
    }
    // USD figures are rounded to the micro-dollar, as the run summary rounds them.
    const usd = (value: number) => Math.round(value * 1e6) / 1e6;
    expect(shown.cost_usd?.value).toBe(usd(cost));
    expect(shown.cost_usd?.text).toBe(`$${cost.toFixed(4)}`);
    expect(shown.cost_per_image?.value).toBe(usd(cost / records.length));
    expect(shown.saved_usd?.value).toBeGreaterThan(0); // the duplicate was not paid again

    // Every chart drawn, each with data.
    const charts = await chartsOf(page);
    expect(charts.map((c) => c.id).sort()).toEqual([
      'chart-cost',
      'chart-errors',
      'chart-latency',
      'chart-savings',
      'chart-throughput',
      'chart-tokens',
    ]);
    for (const chart of charts) {
      expect(chart.drawn, chart.id).toBe(true);
      const total = chart.datasets.flatMap((d) => d.data).reduce((a, b) => a + b, 0);
      expect(total, chart.id).toBeGreaterThan(0);
      expect(chart.width, chart.id).toBeGreaterThan(100);
    }
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    const sum = (values: number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);
    expect(sum(byId['chart-latency']?.datasets[0]?.data)).toBe(attempted.length);
    expect(sum(byId['chart-throughput']?.datasets[0]?.data)).toBe(records.length);
    const retries = records.reduce((n, r) => n + Math.max(0, r.attempts - 1), 0);
    expect(sum(byId['chart-throughput']?.datasets.find((d) => d.label === 'retries')?.data)).toBe(retries);
    const errorsChart = byId['chart-errors'];
    const byCode: Record<string, number> = {};
    for (const r of records) if (r.error) byCode[r.error.code] = (byCode[r.error.code] ?? 0) + 1;
    expect(
      Object.fromEntries((errorsChart?.labels ?? []).map((l, i) => [l, errorsChart?.datasets[0]?.data[i]])),
    ).toEqual(byCode);

    // The lists: thumbnails of real images, the corrupt file among the failures.
    expect(await page.locator('img.thumb').count()).toBeGreaterThan(0);
    const failedInputs = await page.$$eval('section:has(h2:text-matches("^Failed")) tr[data-input]', (rows) =>
      rows.map((r) => r.getAttribute('data-input')),
    );
    expect(failedInputs).toEqual(records.filter((r) => r.status === 'error').map((r) => r.input));

    expect(browser.errors).toEqual([]);
    expect(browser.requests.every((url) => url.startsWith('file:') || url.startsWith('data:'))).toBe(true);
    await browser.screenshot(work, 'report.png');
  }, 120_000);

  it('marks 429s over time from the run itself (run --report) and from its log (report --log)', async () => {
    const inputs = path.join(work, 'inputs');
    const pattern = path.join(work, 'pattern.json');
    simulator.inject('rate-limit', 2);
    const run = await runCli(
      [
        'run',
        inputs,
        '-p',
        pattern,
        '--provider',
        'openai',
        '--model',
        'gpt-4o',
        '--base-url',
        simulator.baseUrls.openai,
        '--concurrency',
        '2',
        '--out',
        'again.jsonl',
        '--cache',
        'off',
        '--no-progress',
        '--json',
        '--report',
        'live.html',
        '--log-file',
        'again.log',
      ],
      { cwd: work, env: { OPENAI_API_KEY: 'sk-sim-report' } },
    );
    expect(run.code).toBe(0);
    const fromLog = await runCli(['report', 'again.jsonl', '--out', 'from-log.html', '--log', 'again.log'], {
      cwd: work,
    });
    expect(fromLog.code).toBe(0);
    const session = await openBrowser();
    try {
      for (const file of ['live.html', 'from-log.html']) {
        await session.page.goto(`file://${path.join(work, file)}`);
        await session.page.waitForSelector('canvas');
        const throughput = (await chartsOf(session.page)).find((c) => c.id === 'chart-throughput');
        const series = (label: string) =>
          (throughput?.datasets.find((d) => d.label === label)?.data ?? []).reduce((a, b) => a + b, 0);
        expect(series('429s'), file).toBe(2);
        expect(series('retries'), file).toBe(2);
      }
      expect(session.errors).toEqual([]);
    } finally {
      await session.close();
    }
  }, 120_000);

  it('names the file and line of a record that is not one', async () => {
    const bad = path.join(work, 'bad.jsonl');
    await writeFile(bad, `${JSON.stringify(records[0])}\n{"input": "x.jpg", "status": "maybe"}\n`);
    const made = await runCli(['report', bad, '--out', path.join(work, 'bad.html')], { cwd: work });
    expect(made.code).toBe(2);
    expect(made.stderr).toMatch(/bad\.jsonl:2: not a result record/);
  });

  it('refuses an empty results file (no records), never reporting 100 % success', async () => {
    for (const [name, text] of [
      ['empty.jsonl', ''],
      ['blank.jsonl', '\n\n'],
    ] as const) {
      const file = path.join(work, name);
      await writeFile(file, text);
      const out = path.join(work, `${name}.html`);
      const made = await runCli(['report', file, '--out', out], { cwd: work });
      expect(made.code, name).toBe(2);
      expect(made.stderr, name).toMatch(
        new RegExp(`error \\[INVALID_INPUT\\]: .*${name}: no result records`),
      );
      expect(made.stdout, name).not.toMatch(/100/);
      await expect(readFile(out, 'utf8'), name).rejects.toThrow(/ENOENT/);
    }
  });

  it('skips a torn last line with a warning (shown in the page), but names a corrupt line in the middle', async () => {
    const lines = records.map((r) => JSON.stringify(r));
    const torn = path.join(work, 'torn.jsonl');
    // A run killed mid-write: the last line stops halfway, without its newline.
    await writeFile(torn, `${lines.join('\n')}\n${lines[0]!.slice(0, 40)}`);
    const out = path.join(work, 'torn.html');
    const made = await runCli(['report', torn, '--out', out, '--json'], { cwd: work });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(new RegExp(`torn\\.jsonl:${records.length + 1}: the last line is cut short`));
    expect((JSON.parse(made.stdout) as { images: number }).images).toBe(records.length);
    const session = await openBrowser();
    try {
      await session.page.goto(`file://${out}`);
      await session.page.waitForSelector('canvas');
      expect((await figuresOf(session.page)).images?.value).toBe(records.length);
      expect(await session.page.locator('[data-torn-lines]').getAttribute('data-torn-lines')).toBe('1');
      expect(await session.page.locator('[data-torn-lines]').innerText()).toMatch(/cut short/);
    } finally {
      await session.close();
    }

    const middle = path.join(work, 'middle.jsonl');
    await writeFile(middle, `${lines[0]}\n${lines[1]!.slice(0, 40)}\n${lines[2]}\n`);
    const refused = await runCli(['report', middle, '--out', path.join(work, 'middle.html')], { cwd: work });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/middle\.jsonl:2: not JSON/);
  }, 120_000);
});
