/**
 * docs/providers.md's code, run as written (`visionpipe` is this checkout's src/): the
 * simulator block starts its own simulator and reads a scan through it; the batch block
 * runs a whole OpenAI batch job against a simulator (OPENAI_BASE_URL, the first poll wait
 * cut from 30 s to 50 ms) and leaves its state file marked fetched; the price override
 * example is accepted by loadPriceTable and changes the price. docs/cost.md's route file
 * example is loaded by the route loader and routes as the prose says.
 */

import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { costUsd, loadPattern, loadPriceTable, startSimulator } from '../../src/index.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { SIZE_REFUSAL_SHAPES } from '../../src/providers/http-errors.js';
import { loadRouter } from '../../src/runs/routes.js';
import type { Simulator } from '../../src/simulator/index.js';
import { ROOT } from '../support/cli.js';
import { exampleFolder, runTypeScript } from '../support/doc-code.js';
import { tempDir } from '../support/images.js';
import { docBlocks } from '../support/markdown.js';

const providers = docBlocks(await readFile(path.join(ROOT, 'docs/providers.md'), 'utf8'));
const cost = docBlocks(await readFile(path.join(ROOT, 'docs/cost.md'), 'utf8'));
const under = (blocks: typeof providers, heading: string, lang: string) =>
  blocks.filter((b) => b.headings.includes(heading) && b.lang === lang);

const sims: Simulator[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.close();
});

describe('docs/providers.md', () => {
  it('lists every size-refusal shape of the code, in order, with its provider and source', async () => {
    const text = await readFile(path.join(ROOT, 'docs/providers.md'), 'utf8');
    const rows = text
      .split('\n')
      .filter((l) => /^\| \d+ \| /.test(l))
      .map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.length).toBe(SIZE_REFUSAL_SHAPES.length);
    SIZE_REFUSAL_SHAPES.forEach((shape, i) => {
      const [, n, who, , source] = rows[i]!;
      expect(Number(n)).toBe(i + 1);
      expect(who).toBe(shape.who);
      expect(source).toContain(shape.source);
    });
    // The many-images row states Anthropic's numbers as the provider declares them.
    const limits = new AnthropicProvider({ apiKey: 'sk-ant-test' }).limits;
    expect(text).toContain(
      `| anthropic | ${limits.maxImagesPerRequest} | ${limits.manyImages.images} | ${limits.manyImages.maxEdge} × ${limits.manyImages.maxEdge} px |`,
    );
    expect(text).toContain('`priced_as`');
    expect(text).toContain('`run --pass-urls`');
  });

  it('has exactly the TypeScript blocks run here', () => {
    expect(providers.filter((b) => b.lang === 'ts').map((b) => b.headings[0])).toEqual([
      'The simulator',
      'Batch APIs',
    ]);
  });

  it('the simulator block reads a scan through a simulator it starts, and closes it', async () => {
    const [block] = under(providers, 'The simulator', 'ts');
    const dir = await exampleFolder('vp-providers-docs-');
    const run = await runTypeScript(block!.code, dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/invoice_number/);
    expect(run.stdout).toMatch(/'openai POST \/v1\/chat\/completions': 1/);
  }, 200_000);

  it('the batch block runs a job to the end: one result per scan, the state file marked fetched', async () => {
    const [block] = under(providers, 'Batch APIs', 'ts');
    expect(block!.code).toContain('pollIntervalMs: 30_000');
    const sim = await startSimulator({ latency: { minMs: 5, maxMs: 20 } });
    sims.push(sim);
    const dir = await exampleFolder('vp-providers-batch-docs-');
    const run = await runTypeScript(
      block!.code.replace('pollIntervalMs: 30_000', 'pollIntervalMs: 50'),
      dir,
      {
        OPENAI_API_KEY: 'sk-docs-batch',
        OPENAI_BASE_URL: sim.baseUrls.openai,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n').filter((line) => /^[0-9a-f]{32} /.test(line));
    expect(lines).toHaveLength(2);
    expect(run.stdout).not.toMatch(/undefined|null\s*$/m);
    expect(sim.stats.batchesCreated).toBe(1);
    const [state] = await readdir(path.join(dir, '.visionpipe/batches'));
    const saved = JSON.parse(await readFile(path.join(dir, '.visionpipe/batches', state!), 'utf8')) as {
      fetched: boolean;
    };
    expect(saved.fetched).toBe(true);
  }, 200_000);

  it('the price override example is accepted and changes the price', () => {
    const [block] = under(providers, 'Price table', 'json');
    const table = loadPriceTable(JSON.parse(block!.code));
    const usage = { input_tokens: 1_000_000, output_tokens: 0, image_tokens: 0, estimated: false };
    expect(costUsd('openai', 'gpt-4o', usage, { table })).toBeCloseTo(2.0);
    expect(costUsd('openai', 'my-finetune', usage, { table })).toBeCloseTo(3);
    expect(costUsd('openai', 'gpt-4o', usage)).not.toBeCloseTo(2.0);
  });
});

describe('docs/cost.md', () => {
  it('the route file example loads and routes receipts, then their model, and contracts', async () => {
    const [block] = cost.filter((b) => b.lang === 'yaml');
    expect(cost.filter((b) => b.lang === 'yaml')).toHaveLength(1);
    const dir = await tempDir('vp-cost-docs-');
    await mkdir(path.join(dir, 'patterns'));
    await copyFile(path.join(ROOT, 'samples/patterns/receipt.yaml'), path.join(dir, 'patterns/receipt.yaml'));
    await writeFile(path.join(dir, 'routes.yaml'), block!.code);
    const invoice = await loadPattern(path.join(ROOT, 'samples/patterns/invoice.json'));
    const router = await loadRouter(path.join(dir, 'routes.yaml'), {
      pattern: invoice,
      provider: 'openai',
      model: 'gpt-4o',
      profile: undefined,
    });
    const receipt = router.route('inbox/receipts/r1.jpg');
    expect(receipt.pattern.name).toMatch(/^receipt$/i);
    expect([receipt.provider, receipt.model]).toEqual(['openai', 'gpt-4.1-mini']);
    expect(router.route('inbox/contracts/c1.pdf')).toMatchObject({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
    });
    expect(router.route('inbox/other/x.jpg')).toMatchObject({ provider: 'openai', model: 'gpt-4o' });
  });
});
