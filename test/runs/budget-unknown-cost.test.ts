/**
 * The cost budget's handling of unknown costs, part by part (the CLI test is
 * test/cli/budget-prices.test.ts): which models need a price, what a record of unknown cost
 * is counted at (the figure `estimate` gives for its image), and a stop when even that is
 * unknown (a model a routing rule reaches that the start check could not name).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/index.js';
import { errorRecord, type RunRecord } from '../../src/pipeline/record.js';
import { loadPriceTable } from '../../src/providers/pricing.js';
import { CostBudget, costUnknown, recordCostEstimator, requirePrices } from '../../src/runs/budget.js';
import { estimateItem } from '../../src/runs/estimate.js';
import { corpus } from '../support/images.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function paid(partial: Partial<RunRecord>): RunRecord {
  return {
    ...errorRecord(
      { input: 'a.jpg', pattern: 'doc', provider: 'openai', model: 'gpt-4o' },
      { code: '', message: '' },
    ),
    status: 'ok',
    error: null,
    attempts: 1,
    ...partial,
  };
}

describe('requirePrices', () => {
  it('passes priced and local models, refuses each unpriced one by name, takes config prices', () => {
    expect(() =>
      requirePrices(
        [
          { provider: 'openai', model: 'gpt-4o-mini' },
          { provider: 'openai', model: 'gpt-4o-mini-2024-07-18' },
          { provider: 'local', model: 'tesseract-deu' },
        ],
        1,
      ),
    ).not.toThrow();
    expect(() =>
      requirePrices(
        [
          { provider: 'openai', model: 'llava' },
          { provider: 'imggo', model: 'managed-default' },
        ],
        1,
      ),
    ).toThrow(/openai\/llava, imggo\/managed-default is unknown/);
    const table = loadPriceTable({ openai: { models: { llava: { input: 0, output: 0 } } } });
    expect(() => requirePrices([{ provider: 'openai', model: 'llava' }], 1, table)).not.toThrow();
  });
});

describe('records of unknown cost', () => {
  it('are those that called a provider with no price, or failed where the work may have been billed', () => {
    expect(costUnknown(paid({ cost_usd: null }))).toBe(true);
    expect(costUnknown(paid({ cost_usd: 0.01 }))).toBe(false);
    expect(costUnknown(paid({ cost_usd: null, attempts: 0 }))).toBe(false); // cache hit, resumed
    const failed = (code: string) =>
      paid({ status: 'error', cost_usd: 0, error: { code: code as never, message: 'a.jpg: …' } });
    expect(costUnknown(failed('PROVIDER_TIMEOUT'))).toBe(true);
    expect(costUnknown(failed('BAD_RESPONSE'))).toBe(true);
    expect(costUnknown(failed('AUTH_FAILED'))).toBe(false);
    expect(costUnknown(failed('RATE_LIMITED'))).toBe(false);
  });

  it('are counted at what estimate says their image costs', async () => {
    const pipeline = await createPipeline({
      pattern: path.join(ROOT, 'samples/patterns/receipt.yaml'),
      provider: 'openai',
      providerOptions: { openai: { apiKey: 'sk-test-never-called' } },
      model: 'gpt-4o',
      cache: { spec: 'memory' },
    });
    try {
      const input = corpus('invoice1.jpg');
      const { image } = await estimateItem(
        { kind: 'file', path: input, label: input, rel: 'invoice1.jpg' },
        pipeline,
        new Set(),
        {},
      );
      expect(image.cost_usd).toBeGreaterThan(0);
      const estimate = recordCostEstimator(pipeline);
      const record = paid({
        cost_usd: null,
        image: {
          width: image.width!,
          height: image.height!,
          bytes: 1,
          original_bytes: 1,
          tokens: image.image_tokens,
        },
      });
      expect(estimate(record)).toBeCloseTo(image.cost_usd!, 10);
      // An image never sent is taken at the largest the profile sends: never less.
      expect(estimate(paid({ cost_usd: null, image: null }))!).toBeGreaterThanOrEqual(image.cost_usd!);
      expect(estimate(paid({ cost_usd: null, model: 'llava' }))).toBeCloseTo(image.cost_usd!, 10);
      expect(estimate(paid({ cost_usd: null, provider: 'gemini', model: 'llava' }))).toBeUndefined();

      const budget = new CostBudget(1);
      budget.estimateWith(estimate);
      const gate = budget.gate(
        (async function* () {
          yield 1;
        })(),
      );
      await gate.next();
      budget.finished(record);
      expect(budget.spentUsd).toBeCloseTo(image.cost_usd!, 10);
    } finally {
      await pipeline.close();
    }
  });

  it('stop the run, naming input and model, when even an estimate has no price', async () => {
    const budget = new CostBudget(100);
    const items = budget.gate(
      (async function* () {
        for (let i = 0; i < 5; i++) yield i;
      })(),
    );
    const first = await items.next();
    expect(first.value).toBe(0);
    budget.finished(
      paid({ cost_usd: null, input: 'scan-7.jpg', provider: 'gemini', model: 'gemini-9-ultra' }),
    );
    expect((await items.next()).done).toBe(true);
    expect(budget.stopped).toMatch(/scan-7\.jpg \(gemini\/gemini-9-ultra\) is unknown/);
  });
});
