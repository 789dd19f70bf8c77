import { describe, expect, it } from 'vitest';
import { callCost } from '../../src/pipeline/call-pricing.js';
import { addCost } from '../../src/pipeline/paid-calls.js';
import type { PriceTable } from '../../src/providers/pricing.js';

/** USD per 1M tokens: a model, a dated version of it with its own price, and a dearer model. */
const table: PriceTable = {
  acme: {
    batchDiscount: 0.5,
    models: {
      'vision-1': { input: 1, output: 2 },
      'vision-1-2025-01-01': { input: 3, output: 6 },
      'dear-2': { input: 50, output: 100 },
    },
  },
};
const million = { input_tokens: 1_000_000, output_tokens: 0, image_tokens: 0, estimated: false };

describe('callCost', () => {
  it('prices the model asked for, or a dated version the answer names at its own price', () => {
    expect(callCost('acme', 'vision-1', 'vision-1', million, { table })).toBe(1);
    expect(callCost('acme', 'vision-1', 'vision-1-2025-01-01', million, { table })).toBe(3);
    // A dated version without a price of its own: the one asked for.
    expect(callCost('acme', 'vision-1', 'vision-1-2026-02-02', million, { table })).toBe(1);
  });

  it('prices an answer naming another model as the one asked for, never free or dearer', () => {
    expect(callCost('acme', 'vision-1', 'free-model', million, { table })).toBe(1);
    expect(callCost('acme', 'vision-1', 'dear-2', million, { table })).toBe(1);
    expect(callCost('acme', 'vision-1', '', million, { table })).toBe(1);
  });

  it('takes the batch discount off, and an unknown model costs null (unknown), not 0', () => {
    expect(callCost('acme', 'vision-1', 'vision-1', million, { table, batch: true })).toBe(0.5);
    expect(callCost('acme', 'nothing-9', 'nothing-9', million, { table })).toBeNull();
  });
});

describe('addCost', () => {
  it('sums USD to 1e-10 and stays null once either side is unknown', () => {
    expect(addCost(0.1, 0.2)).toBe(0.3);
    expect(addCost(null, 0.2)).toBeNull();
    expect(addCost(0.2, null)).toBeNull();
  });
});
