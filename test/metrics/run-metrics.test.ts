/**
 * `run --metrics-port` and `--log-file` on the simulator: the scraped metrics, read
 * with a real exposition-format parser, equal the sums over the run's results.jsonl
 * (images, cache, tokens, cost, bytes) and what the simulator saw (requests, 429s);
 * the log has run start/end, one line per image at debug, one warning per failure,
 * the 429s and retries, and never the API key.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { type CliResult, runOpenAiCompatible } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import { family, scrape, total } from '../support/metrics-scrape.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const SECRET = 'sk-sim-metrics-9f8e7d6c5b4a';
let simulator: Simulator;
let work: string;

beforeAll(async () => {
  simulator = await startSimulator({
    latency: { minMs: 20, maxMs: 200 },
    answer: () => ({ title: 'A', total: 3 }),
  });
  work = await tempDir('visionpipe-metrics-');
  const inputs = path.join(work, 'inputs');
  await mkdir(inputs);
  for (const name of ['invoice1.jpg', 'invoice2.jpg', 'invoice3.jpg', 'car-plate1.jpg', 'inventory1.jpg'])
    await copyFile(corpus(name), path.join(inputs, name));
  await copyFile(corpus('invoice2.jpg'), path.join(inputs, 'again.jpg'));
  await writeFile(path.join(inputs, 'broken.jpg'), 'nope');
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

afterAll(async () => {
  await simulator?.close();
});

describe('run --metrics-port and --log-file', () => {
  it('serves metrics equal to the JSONL and logs without secrets', async () => {
    simulator.inject('rate-limit', 2);
    simulator.inject('bad-request', 1);
    let url: string | undefined;
    let stderr = '';
    let running: ChildProcess | undefined;
    let last: Awaited<ReturnType<typeof scrape>> | undefined;
    const scraping = new Promise<void>((resolve, reject) => {
      const poll = async () => {
        try {
          if (url) {
            const families = await scrape(`${url}/metrics`);
            last = families;
            if (
              total(families, 'visionpipe_run_in_progress') === 0 &&
              total(families, 'visionpipe_images_total') > 0
            )
              return resolve();
          }
        } catch (error) {
          if (!/ECONNREFUSED/.test(String(error))) return reject(error);
        }
        setTimeout(poll, 100);
      };
      void poll();
    });
    const run = runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: simulator.baseUrls.openai,
      extra: [
        '--concurrency',
        '2',
        '--no-progress',
        '--json',
        '--metrics-port',
        '0',
        '--metrics-linger',
        '20s',
        '--log-file',
        'run.log',
        '--log-level',
        'debug',
      ],
      cwd: work,
      env: { OPENAI_API_KEY: SECRET },
      onSpawn: (child) => {
        running = child;
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          url ??= /Metrics at (http:\/\/\S+)\/metrics/.exec(stderr)?.[1];
        });
      },
    });
    await Promise.race([
      scraping,
      run.then((r) => Promise.reject(new Error(`run ended first: ${r.stderr}`))),
    ]);
    // Scraped the finished run: end the scrape window now (a SIGTERM while lingering exits 0,
    // linger-signal.test.ts; the last test here sits a window out to its end).
    running?.kill('SIGTERM');
    const families = last ?? [];
    const result = await run;
    expect(result.code).toBe(0);

    const records = (await readFile(path.join(work, 'results.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RunRecord);
    const count = (status: string) => records.filter((r) => r.status === status).length;
    expect(total(families, 'visionpipe_images_total', { outcome: 'ok' })).toBe(count('ok'));
    expect(total(families, 'visionpipe_images_total', { outcome: 'error' })).toBe(count('error'));
    expect(count('error')).toBe(2); // the corrupt file and the rejected request
    const cacheCount = (c: string) => records.filter((r) => r.cache === c).length;
    expect(total(families, 'visionpipe_cache_lookups_total', { result: 'miss' })).toBe(cacheCount('miss'));
    expect(total(families, 'visionpipe_cache_lookups_total', { result: 'dedup' })).toBe(cacheCount('dedup'));
    const sum = (f: (r: RunRecord) => number) => records.reduce((n, r) => n + f(r), 0);
    expect(total(families, 'visionpipe_tokens_total', { type: 'input' })).toBe(
      sum((r) => r.usage.input_tokens),
    );
    expect(total(families, 'visionpipe_tokens_total', { type: 'output' })).toBe(
      sum((r) => r.usage.output_tokens),
    );
    expect(
      total(families, 'visionpipe_cost_usd_total', { provider: 'openai', model: 'gpt-4o-mini' }),
    ).toBeCloseTo(
      sum((r) => r.cost_usd ?? 0),
      12,
    );
    expect(total(families, 'visionpipe_bytes_total', { stage: 'original' })).toBe(
      sum((r) => r.image?.original_bytes ?? 0),
    );
    expect(total(families, 'visionpipe_bytes_total', { stage: 'sent' })).toBe(
      sum((r) => (r.attempts > 0 ? (r.image?.bytes ?? 0) : 0)),
    );
    const duration = family(families, 'visionpipe_image_duration_seconds');
    expect(duration?.type).toBe('HISTOGRAM');
    expect(Number(duration?.metrics[0]?.count)).toBe(records.length);
    expect(Number(duration?.metrics[0]?.sum)).toBeCloseTo(sum((r) => r.latency_ms) / 1000, 6);
    // Provider side: every attempt the simulator answered, the 429s among them, the retries.
    // Calls sent = answered (attempts) + refused by the rate limit (rate_limited.count).
    const calls = sum((r) => r.attempts + r.rate_limited.count);
    expect(total(families, 'visionpipe_provider_requests_total')).toBe(calls);
    expect(total(families, 'visionpipe_provider_requests_total', { status_class: '4xx' })).toBe(3);
    expect(total(families, 'visionpipe_rate_limited_total', { provider: 'openai' })).toBe(2);
    expect(total(families, 'visionpipe_retries_total', { provider: 'openai', reason: 'rate_limited' })).toBe(
      2,
    );
    expect(family(families, 'visionpipe_provider_request_duration_seconds')?.type).toBe('HISTOGRAM');
    for (const f of families.filter((f) => f.name.startsWith('visionpipe_') && f.type === 'COUNTER'))
      expect(f.name, 'counters end in _total').toMatch(/_total$/);

    // The log.
    const log = await readFile(path.join(work, 'run.log'), 'utf8');
    expect(log).not.toContain(SECRET);
    const lines = log
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event?: string; level: number });
    const events = (name: string) => lines.filter((l) => l.event === name);
    expect(events('run.start')).toHaveLength(1);
    expect(events('run.end')).toHaveLength(1);
    expect(events('image')).toHaveLength(records.length);
    expect(events('image.failed')).toHaveLength(2);
    expect(events('image.failed').every((l) => l.level === 40)).toBe(true);
    expect(events('rate_limited')).toHaveLength(2);
    expect(events('retry')).toHaveLength(2);
  }, 120_000);

  it('print the summary before --metrics-linger, while a last scrape still answers', async () => {
    // The window was open when the summary came out; then a SIGTERM ends it (no need to sit it out).
    const { result, families } = await runThenScrape(
      'inputs',
      simulator.baseUrls.openai,
      'linger.jsonl',
      ['--cache', 'off'],
      { stopAfterScrape: true },
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout.split('\n')[0] ?? '') as { total: number };
    // The summary came out with the scrape window still open: the scrape saw the run's end.
    expect({
      inProgress: total(families, 'visionpipe_run_in_progress'),
      images: total(families, 'visionpipe_images_total'),
    }).toEqual({ inProgress: 0, images: summary.total });
  }, 120_000);

  it('publish what flow control learned: visionpipe_limiter_rate (paced rpm) and _concurrency', async () => {
    // A provider that allows 5 calls per second and says nothing in headers: the flow learns from 429s.
    const limited = await startSimulator({
      latency: { minMs: 20, maxMs: 40 },
      answer: () => ({ title: 'A', total: 3 }),
      limiter: { shape: 'no-headers', rps: 5 },
    });
    try {
      const dir = path.join(work, 'many');
      await mkdir(dir, { recursive: true });
      for (let i = 0; i < 30; i++)
        await writeFile(path.join(dir, `m-${i}.jpg`), await solidJpeg(40 + i, 30, '#405060'));
      const { result, families } = await runThenScrape(dir, limited.baseUrls.openai, 'limited.jsonl', [
        '--cache',
        'off',
        '--concurrency',
        '8',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const refused = total(families, 'visionpipe_rate_limited_total', { provider: 'openai' });
      expect(refused).toBeGreaterThan(0);
      const rate = family(families, 'visionpipe_limiter_rate');
      expect(rate?.type).toBe('GAUGE');
      expect(rate?.metrics.map((m) => m.labels?.provider)).toEqual(['openai']);
      const rpm = Number(rate?.metrics[0]?.value);
      // Paced: a finite rate, at most what was ever accepted (a cut is β × the accepted rate).
      expect(Number.isFinite(rpm) && rpm > 0, JSON.stringify(rate)).toBe(true);
      const concurrency = total(families, 'visionpipe_limiter_concurrency', { provider: 'openai' });
      expect(concurrency).toBeGreaterThanOrEqual(1);
      expect(concurrency).toBeLessThanOrEqual(8); // never above --concurrency
    } finally {
      await limited.close();
    }
  }, 120_000);
});

/**
 * Runs visionpipe with /metrics up, scrapes once the summary is out (during --metrics-linger),
 * then, with `stopAfterScrape`, ends the 10 s window with a SIGTERM (else the run sits it out).
 */
async function runThenScrape(
  input: string,
  baseUrl: string,
  out: string,
  extra: string[],
  options: { stopAfterScrape?: boolean } = {},
): Promise<{ result: CliResult; families: Awaited<ReturnType<typeof scrape>> }> {
  let stdout = '';
  let stderr = '';
  let scraped: Promise<Awaited<ReturnType<typeof scrape>>> | undefined;
  const result = await runOpenAiCompatible(input, {
    pattern: 'pattern.json',
    baseUrl,
    out,
    extra: [...extra, '--no-progress', '--json', '--metrics-port', '0', '--metrics-linger', '10s'],
    cwd: work,
    env: { OPENAI_API_KEY: SECRET },
    onSpawn: (child) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (scraped || !stdout.includes('\n')) return;
        const url = /Metrics at (http:\/\/\S+)\/metrics/.exec(stderr)?.[1];
        scraped = scrape(`${url}/metrics`);
        if (options.stopAfterScrape) void scraped.finally(() => child.kill('SIGTERM')).catch(() => {});
      });
    },
  });
  if (!scraped) throw new Error(`no summary printed: ${result.stderr}`);
  return { result, families: await scraped };
}
