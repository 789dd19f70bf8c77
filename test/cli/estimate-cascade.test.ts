/**
 * `estimate --triage local` and `estimate --escalate-to` (issue 11): local triage runs on
 * the inputs (free, no network, no key) and only the images it finds relevant are priced;
 * escalation is priced as a range (none … all escalate), each escalated image at what the
 * stronger model's own estimate says, and the expected figure from --escalation-rate or a
 * previous run's results; the assumption is in the JSON and the text. A provider's triage
 * and a rate without --escalate-to are refused. Real CLI on real corpus images.
 */
import { mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EstimatedImage, EstimateTotals } from '../../src/runs/estimate.js';
import type { EscalationTotals, TriageTotals } from '../../src/runs/estimate-cascade.js';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { BIN, ROOT, readRecords, runCli, runCommand } from '../support/cli.js';
import { corpus, tempDir } from '../support/images.js';
import { docBlocks } from '../support/markdown.js';

const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');
/** No key for any provider: estimate needs none. */
const NO_KEYS = { OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '' };

interface Estimate {
  images: EstimatedImage[];
  totals: EstimateTotals & { triage?: TriageTotals; escalation?: EscalationTotals };
}

let work: string;
beforeAll(async () => {
  work = await tempDir('visionpipe-estimate-cascade-');
  await symlink(path.join(ROOT, 'samples'), path.join(work, 'samples'));
});

/** `run` or `estimate` on corpus images with the invoice pattern on gpt-4.1-mini, no cache. */
const command = (name: 'run' | 'estimate', inputs: string[], extra: string[]) => [
  name,
  ...inputs.map(corpus),
  ...['-p', PATTERN, '--provider', 'openai', '--model', 'gpt-4.1-mini', '--cache', 'off'],
  ...extra,
];

async function estimate(inputs: string[], extra: string[], json = true) {
  const result = await runCli(command('estimate', inputs, [...(json ? ['--json'] : []), ...extra]), {
    cwd: work,
    env: NO_KEYS,
  });
  expect(result.code, result.stderr).toBe(0);
  return json ? (JSON.parse(result.stdout) as Estimate) : result.stdout;
}

describe('estimate --triage local', () => {
  // One triaged estimate (local OCR on three images, the slow part) serves both claims below:
  // what it prices, and that run --triage local skips the same images. It is pointed at the
  // simulator so that it would be counted there if it called anything.
  const inputs = ['invoice4.jpg', 'construction1.jpg', 'parking1.jpg'];
  let simulator: Simulator;
  let local: string[];
  let triaged: Estimate;
  let callsDuringEstimate: number;
  beforeAll(async () => {
    simulator = await startSimulator({ answer: () => ({ vendor_name: 'x', total: 1 }) });
    local = ['--triage', 'local', '--base-url', simulator.baseUrls.openai];
    triaged = (await estimate(inputs, local)) as Estimate;
    callsDuringEstimate = simulator.stats.total;
  });
  afterAll(async () => {
    await simulator?.close();
  });

  it('runs local triage on the inputs and prices only the relevant images', async () => {
    const byName = Object.fromEntries(triaged.images.map((i) => [path.basename(i.input), i]));
    expect(byName['invoice4.jpg']).toMatchObject({ status: 'send', triage: { relevant: true } });
    for (const photo of ['construction1.jpg', 'parking1.jpg']) {
      expect(byName[photo]).toMatchObject({ status: 'triaged', cost_usd: 0, triage: { relevant: false } });
      expect(byName[photo]!.triage!.reason.length).toBeGreaterThan(0);
    }
    expect(triaged.totals).toMatchObject({ images: 3, to_send: 1, triaged_out: 2 });
    expect(triaged.totals.triage).toMatchObject({ model: 'local', triaged: 3, relevant: 1, not_relevant: 2 });
    expect(triaged.totals.triage!.assumption).toContain('no network');
    // What is priced is the invoice alone; the naive plan still has every image.
    const alone = (await estimate(['invoice4.jpg'], [])) as Estimate;
    expect(triaged.totals.optimized).toEqual(alone.totals.optimized);
    const untriaged = (await estimate(inputs, [])) as Estimate;
    expect(triaged.totals.naive).toEqual(untriaged.totals.naive);
    expect(untriaged.totals.to_send).toBe(3);
  });

  it('skips what run --triage local skips, and run calls the provider once per image estimate prices', async () => {
    expect(callsDuringEstimate).toBe(0);
    const out = path.join(work, 'triaged-run.jsonl');
    const run = await runCli(command('run', inputs, ['-o', out, ...local]), {
      cwd: work,
      env: { OPENAI_API_KEY: 'sk-sim' },
    });
    expect(run.code, run.stderr).toBe(0);
    const skippedByRun = (await readRecords(out))
      .filter((r) => r.status === 'skipped')
      .map((r) => r.input)
      .sort();
    const triagedByEstimate = triaged.images
      .filter((i) => i.status === 'triaged')
      .map((i) => i.input)
      .sort();
    expect(triagedByEstimate).toEqual(skippedByRun);
    expect(skippedByRun.length).toBeGreaterThan(0);
    expect(triaged.totals.to_send).toBeGreaterThan(0);
    expect(simulator.stats.total).toBe(triaged.totals.to_send);
  });

  it("refuses a provider's triage, saying why and what it prices instead", async () => {
    const result = await runCli(
      [
        'estimate',
        corpus('invoice1.jpg'),
        '-p',
        PATTERN,
        '--provider',
        'openai',
        '--triage',
        'openai:gpt-4.1-nano',
      ],
      { cwd: work, env: NO_KEYS },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('estimate does not run --triage openai:gpt-4.1-nano');
    expect(result.stderr).toContain('paid answers');
    expect(result.stderr).toContain('--triage local');
  });
});

describe('estimate --escalate-to', () => {
  const inputs = ['invoice1.jpg', 'invoice2.jpg'];

  it('prices a range (none … all escalate) at the stronger model’s own estimate, and the expected figure at a given rate', async () => {
    const first = (await estimate(inputs, [
      '--escalate-to',
      'openai:gpt-4.1',
      '--escalation-rate',
      '0.25',
    ])) as Estimate;
    const e = first.totals.escalation!;
    // Each escalated image costs what estimate prices it at on gpt-4.1 itself.
    const strong = (await estimate(inputs, ['--model', 'gpt-4.1'])) as Estimate;
    for (const image of first.images) {
      const same = strong.images.find((s) => s.input === image.input)!;
      expect(image.escalation!.tokens).toBe(same.tokens);
      expect(image.escalation!.cost_usd).toBeCloseTo(same.cost_usd!, 9);
    }
    const main = first.totals.optimized;
    expect(e).toMatchObject({
      to: 'openai:gpt-4.1',
      images: 2,
      rate: 0.25,
      rate_source: '--escalation-rate',
    });
    expect(e.min).toEqual({ tokens: main.tokens, cost_usd: main.cost_usd });
    expect(e.max.tokens).toBe(main.tokens + strong.totals.optimized.tokens);
    expect(e.max.cost_usd).toBeCloseTo(main.cost_usd! + strong.totals.optimized.cost_usd!, 6);
    expect(e.expected!.cost_usd).toBeCloseTo(main.cost_usd! + 0.25 * strong.totals.optimized.cost_usd!, 6);
    expect(e.assumption).toContain('known only from the answer');
    expect(e.assumption).toContain('0.25');
  });

  it('gives no expected figure without a rate, and says how to get one', async () => {
    const result = (await estimate(inputs, ['--escalate-to', 'openai:gpt-4.1'])) as Estimate;
    expect(result.totals.escalation).toMatchObject({ expected: null, rate: null });
    expect(result.totals.escalation!.assumption).toContain('--escalation-rate');
  });

  it("takes the rate from a previous run's results: escalated share of the answered records", async () => {
    const results = path.join(work, 'previous.jsonl');
    const record = (cache: string, status: string, escalated: string | null) =>
      JSON.stringify({ input: 'x', status, cache, cascade: { triage: null, escalated_from: escalated } });
    await writeFile(
      results,
      [
        record('miss', 'ok', 'openai:gpt-4.1-mini'),
        record('miss', 'ok', null),
        record('miss', 'error', null),
        record('miss', 'ok', null),
        // Neither answered by a model in that run: left out of the rate.
        record('hit', 'ok', 'openai:gpt-4.1-mini'),
        record('miss', 'skipped', null),
      ].join('\n'),
    );
    const text = (await estimate(
      inputs,
      ['--escalate-to', 'openai:gpt-4.1', '--results', results],
      false,
    )) as string;
    expect(text).toContain('escalation to openai:gpt-4.1, 2 images: none escalate');
    expect(text).toContain('expected at rate 0.25');
    expect(text).toContain(`assumption: an image is sent again to openai:gpt-4.1`);
    expect(text).toContain(`1 of 4 answered records of ${results} escalated`);
  });

  it('else takes the rate of the latest run --state-dir knows on the same model that shows escalations', async () => {
    const state = path.join(work, 'state');
    await mkdir(path.join(state, 'runs'), { recursive: true });
    const record = (escalated: string | null) =>
      JSON.stringify({ input: 'x', status: 'ok', cache: 'miss', cascade: { escalated_from: escalated } });
    const run = async (id: string, provider: string, model: string, lines: string[], mtime: number) => {
      const out = path.join(work, `${id}.jsonl`);
      await writeFile(out, lines.join('\n'));
      await utimes(out, mtime, mtime);
      await writeFile(
        path.join(state, 'runs', `${id}.json`),
        JSON.stringify({ pattern: 'p', provider, model, profile: 'x', out, completed: true }),
      );
      return out;
    };
    const escalating = await run(
      'a',
      'openai',
      'gpt-4.1-mini',
      [record('openai:gpt-4.1-mini'), record(null)],
      1_000,
    );
    // Newer, but no escalation in it (a run without --escalate-to says 0: not evidence).
    await run('b', 'openai', 'gpt-4.1-mini', [record(null), record(null)], 2_000);
    // Newer, escalations, another model: not this estimate's.
    await run('c', 'openai', 'gpt-4o', [record('openai:gpt-4o')], 3_000);
    const result = (await estimate(inputs, [
      '--escalate-to',
      'openai:gpt-4.1',
      '--state-dir',
      state,
    ])) as Estimate;
    expect(result.totals.escalation).toMatchObject({ rate: 0.5 });
    expect(result.totals.escalation!.rate_source).toContain(escalating);
    expect(result.totals.escalation!.rate_source).toContain('the latest run with escalations');
  });

  it.each([
    [['--escalation-rate', '0.2'], '--escalation-rate needs --escalate-to'],
    [
      ['--escalate-to', 'openai:gpt-4.1', '--escalation-rate', '1.5'],
      '--escalation-rate must be a number from 0 to 1',
    ],
    [['--escalate-to', 'openai:gpt-4.1', '--batch-api'], '--batch-api and --escalate-to cannot be combined'],
  ])('refuses %j', async (extra, message) => {
    const result = await runCli(
      ['estimate', corpus('invoice1.jpg'), '-p', PATTERN, '--provider', 'openai', ...extra],
      { cwd: work, env: NO_KEYS },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});

describe('docs/cost.md: Triage and escalation in the estimate', () => {
  it('runs its shell block as written (from the checkout, no key) and prints the range and the assumption', async () => {
    const blocks = docBlocks(await readFile(path.join(ROOT, 'docs/cost.md'), 'utf8')).filter(
      (b) => b.lang === 'sh' && b.headings.includes('Triage and escalation in the estimate'),
    );
    expect(blocks).toHaveLength(1);
    const script = blocks[0]!.code.replaceAll(/^visionpipe /gm, `node ${BIN} `);
    const run = await runCommand('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: work,
      env: { ...process.env, ...NO_KEYS, NO_COLOR: '1' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/triage {5}local on \d+ images: \d+ relevant, \d+ not relevant/);
    expect(run.stdout).toContain('escalation to openai:gpt-4.1');
    expect(run.stdout).toContain('expected at rate 0.2');
    expect(run.stdout).toContain('assumption: local triage ran here');
  });
});
