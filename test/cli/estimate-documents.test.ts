/**
 * `estimate` and `run` agree on a document (issue 17): estimate renders the pages as run
 * does, so a blank page run never sends is not priced, `--page-range` selects the same
 * pages, and a page already in the cache is not priced. Real CLI processes, a 3-page PDF
 * with a blank page made by pdf-lib, the loopback simulator billing by OpenAI's formula.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EstimatedImage, EstimateTotals } from '../../src/runs/estimate.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { openAiFlags, readRecords, runCli, runOpenAiCompatible } from '../support/cli.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';
import { writeJsonPattern } from '../support/patterns.js';

let sim: Simulator;
let work: string;
let pdf: string;
let pattern: string;

beforeAll(async () => {
  sim = await startSimulator({ latency: { minMs: 0, maxMs: 5 }, answer: () => ({ title: 'x', total: 1 }) });
  work = await tempDir('visionpipe-estimate-docs-');
  pdf = path.join(work, 'invoice.pdf');
  await writeFile(
    pdf,
    await makePdf([{ lines: ['Invoice INV-7', 'Acme Ltd'] }, {}, { lines: ['Total 63.00'] }]),
  );
  pattern = await writeJsonPattern(path.join(work, 'pattern.json'), {
    name: 'doc',
    instructions: 'Read the page.',
    schema: { title: 'string', total: 'number' },
  });
});
afterAll(async () => {
  await sim?.close();
});

async function estimate(extra: string[]): Promise<{ image: EstimatedImage; totals: EstimateTotals }> {
  const result = await runCli(
    [
      'estimate',
      pdf,
      '-p',
      pattern,
      // The endpoint is part of a cached answer's key, as in run.
      ...openAiFlags(sim.baseUrls.openai),
      '--state-dir',
      path.join(work, 'state'),
      '--json',
      ...extra,
    ],
    { cwd: work },
  );
  expect(result.code, result.stderr).toBe(0);
  const parsed = JSON.parse(result.stdout) as { images: EstimatedImage[]; totals: EstimateTotals };
  return { image: parsed.images[0]!, totals: parsed.totals };
}

async function run(out: string, extra: string[], mode = 'each') {
  const result = await runOpenAiCompatible(pdf, {
    pattern,
    baseUrl: sim.baseUrls.openai,
    out: path.join(work, out),
    cwd: work,
    extra: ['--pages', mode, '--state-dir', path.join(work, 'state'), '--no-progress', ...extra],
  });
  expect(result.code, result.stderr).toBe(0);
  const records = await readRecords(path.join(work, out));
  const paid = records.filter((r) => r.attempts > 0);
  return {
    records,
    pages: paid.length,
    imageTokens: paid.reduce((sum, r) => sum + r.usage.image_tokens, 0),
    inputTokens: paid.reduce((sum, r) => sum + r.usage.input_tokens, 0),
    cost: paid.reduce((sum, r) => sum + (r.cost_usd ?? 0), 0),
  };
}

describe('estimate prices the pages run pays for', () => {
  it('a blank page is not priced: page count and image tokens equal what run --pages each pays', async () => {
    const priced = await estimate(['--cache', 'off', '--pages', 'each']);
    expect(priced.image).toMatchObject({ status: 'send', pages: 3, pages_priced: 2, blank_pages: [2] });
    expect(priced.totals.document_pages).toBe(2);

    const paid = await run('all.jsonl', ['--cache', 'off']);
    expect(paid.records.find((r) => r.page === 2)?.status).toBe('skipped');
    expect(paid.pages).toBe(priced.image.pages_priced);
    expect(paid.imageTokens).toBe(priced.image.image_tokens);
    // Text tokens and output tokens are estimates (the pattern's size), so cost agrees to 1 %
    // (a blank page priced would add half again).
    expect(Math.abs(paid.inputTokens - priced.image.input_tokens) / paid.inputTokens).toBeLessThan(0.01);
    expect(Math.abs(paid.cost - priced.image.cost_usd!) / paid.cost).toBeLessThan(0.01);
    // Per page: the blank page's price is not in the figure.
    expect(priced.image.cost_per_page_usd).toBeCloseTo(priced.image.cost_usd! / 2, 6);
  }, 120_000);

  it('--page-range selects the same pages; a page run has cached is not priced again', async () => {
    const ranged = await estimate(['--cache', 'sqlite', '--page-range', '2-3', '--pages', 'each']);
    expect(ranged.image).toMatchObject({ pages: 3, pages_priced: 1, blank_pages: [2] });
    const paid = await run('ranged.jsonl', ['--cache', 'sqlite', '--page-range', '2-3']);
    expect(paid.pages).toBe(1);
    expect(paid.imageTokens).toBe(ranged.image.image_tokens);

    // Page 3 is in the cache now: only page 1 is left to pay, as a run would find.
    const after = await estimate(['--cache', 'sqlite', '--pages', 'each']);
    expect(after.image).toMatchObject({ pages_priced: 1, blank_pages: [2], cached_pages: [3] });
    const rerun = await run('after.jsonl', ['--cache', 'sqlite']);
    expect(rerun.pages).toBe(1);
    expect(rerun.records.find((r) => r.page === 3)?.cache).toBe('hit');
    expect(rerun.imageTokens).toBe(after.image.image_tokens);
  }, 120_000);

  it('--pages document (the default): the pages not blank in one request, as run sends them', async () => {
    const priced = await estimate(['--cache', 'off']);
    expect(priced.image).toMatchObject({ status: 'send', pages: 3, pages_priced: 2, blank_pages: [2] });
    const before = sim.stats.total;
    const paid = await run('document.jsonl', ['--cache', 'off'], 'document');
    expect(sim.stats.total - before).toBe(1);
    expect(paid.records[0]).toMatchObject({ pages_sent: 2, blank_pages: [2] });
    expect(paid.imageTokens).toBe(priced.image.image_tokens);
    // The prompt and the answer once, not once a page: the text tokens (input less images)
    // are the one request's (the estimate is within 10 % of the billed prompt, not twice it).
    const paidText = paid.inputTokens - paid.imageTokens;
    const pricedText = priced.image.input_tokens - priced.image.image_tokens;
    expect(Math.abs(paidText - pricedText) / paidText).toBeLessThan(0.1);
    expect(Math.abs(paid.inputTokens - priced.image.input_tokens) / paid.inputTokens).toBeLessThan(0.01);
    expect(Math.abs(paid.cost - priced.image.cost_usd!) / paid.cost).toBeLessThan(0.01);
    const each = await estimate(['--cache', 'off', '--pages', 'each']);
    expect(each.image.input_tokens).toBeGreaterThan(priced.image.input_tokens);
  }, 120_000);
});
