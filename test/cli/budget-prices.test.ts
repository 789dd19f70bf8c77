/**
 * `--max-cost-usd` never counts an unknown cost as $0 (real CLI processes on the simulator):
 * a model with no price is refused at start (exit 2, naming it and the config `prices` that
 * give one, no call made), a price given in the config lets it run, the local engine needs
 * none; and calls whose cost comes back unknown mid-run (the answer's body could not be read,
 * so no usage) are counted at what `estimate` says the image costs, so the budget still stops.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/images.js';

let work: string;
let simulator: Simulator | undefined;
const env = { OPENAI_API_KEY: 'sk-test-simulator' };

beforeAll(async () => {
  work = await tempDir('visionpipe-budget-prices-');
  await writeFile(
    path.join(work, 'pattern.json'),
    JSON.stringify({ name: 'doc', format: 'json', instructions: 'Read.', json_schema: { title: 'string' } }),
  );
  await mkdir(path.join(work, 'inputs'));
  for (let i = 0; i < 6; i++) {
    const jpeg = await sharp({
      create: { width: 640, height: 480, channels: 3, background: { r: i * 30, g: 120, b: 200 - i * 20 } },
    })
      .jpeg()
      .toBuffer();
    await writeFile(path.join(work, 'inputs', `img-${i}.jpg`), jpeg);
  }
});

afterEach(async () => {
  await simulator?.close();
  simulator = undefined;
});

const runArgs = (baseUrl: string, model: string, out: string) => [
  'run',
  'inputs',
  '-p',
  'pattern.json',
  '--provider',
  'openai',
  '--model',
  model,
  '--base-url',
  baseUrl,
  '--concurrency',
  '1',
  '--cache',
  'off',
  '--out',
  out,
  '--no-progress',
];

async function records(file: string): Promise<RunRecord[]> {
  return (await readFile(path.join(work, file), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunRecord);
}

describe('--max-cost-usd and unknown prices', () => {
  it('refuses a model without a price at start, naming it and how to give one; runs once a config prices it', async () => {
    let calls = 0;
    simulator = await startSimulator({ answer: () => ({ title: 'A' }), onRequest: () => calls++ });
    const refused = await runCli(
      [...runArgs(simulator.baseUrls.openai, 'llava-13b', 'refused.jsonl'), '--max-cost-usd', '5'],
      { cwd: work, env },
    );
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('INVALID_OPTION');
    expect(refused.stderr).toContain('openai/llava-13b');
    expect(refused.stderr).toMatch(/prices:\n\s+openai:\n\s+models:\n\s+llava-13b:/);
    expect(refused.stderr).toContain('--config');
    expect(calls).toBe(0);
    await expect(readFile(path.join(work, 'refused.jsonl'))).rejects.toThrow();

    // The same model priced in a named config file: the budget can count it, the run goes.
    await writeFile(
      path.join(work, 'prices.yaml'),
      'prices:\n  openai:\n    models:\n      llava-13b: { input: 0.5, output: 1.5 }\n',
    );
    const priced = await runCli(
      [
        ...runArgs(simulator.baseUrls.openai, 'llava-13b', 'priced.jsonl'),
        '--max-cost-usd',
        '5',
        '--config',
        'prices.yaml',
      ],
      { cwd: work, env },
    );
    expect(priced.code, priced.stderr).toBe(0);
    const done = await records('priced.jsonl');
    expect(done).toHaveLength(6);
    expect(done.every((r) => r.status === 'ok' && typeof r.cost_usd === 'number' && r.cost_usd > 0)).toBe(
      true,
    );
  });

  it('lets the local engine run under a budget without a price', async () => {
    const local = await runCli(
      [
        'run',
        path.join(ROOT, 'samples/images/receipt-004.jpg'),
        '-p',
        path.join(ROOT, 'samples/patterns/receipt.yaml'),
        '--max-cost-usd',
        '0.01',
        '--cache',
        'off',
        '--out',
        'local.jsonl',
      ],
      { cwd: work },
    );
    expect(local.code, local.stderr).toBe(0);
    expect((await records('local.jsonl'))[0]).toMatchObject({ status: 'ok', provider: 'local', cost_usd: 0 });
  });

  it('counts calls whose cost came back unknown at their estimate, so the budget stops the run', async () => {
    // Every answer's body is malformed: the provider did the work, no usage came back.
    simulator = await startSimulator({ answer: () => ({ title: 'A' }), faults: { rateMalformed: 1 } });
    const run = await runCli(
      [
        ...runArgs(simulator.baseUrls.openai, 'gpt-4o', 'unknown.jsonl'),
        '--max-cost-usd',
        '0.004',
        '--max-attempts',
        '1',
      ],
      { cwd: work, env },
    );
    const got = await records('unknown.jsonl');
    expect(got.every((r) => r.status === 'error' && r.attempts > 0 && r.cost_usd === 0)).toBe(true);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(4);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(6);
    expect(run.stdout).toContain('stopped for the cost budget (--max-cost-usd)');
  });
});
