import { describe, expect, it } from 'vitest';
import { costUsd, loadPriceTable, modelPrice } from '../../src/providers/pricing.js';
import {
  anthropicImageTokens,
  estimateTextTokens,
  geminiImageTokens,
  lookupModel,
  openaiImageTokens,
  openaiPatches,
  openaiVisionScheme,
} from '../../src/providers/tokens.js';

describe('OpenAI image tokens (published examples)', () => {
  it('tile models: 1024×1024 high → 765, 2048×4096 high → 1105, any size low → 85 (gpt-4o)', () => {
    expect(openaiImageTokens(1024, 1024, 'gpt-4o', 'high')).toBe(765);
    expect(openaiImageTokens(2048, 4096, 'gpt-4o', 'high')).toBe(1105);
    expect(openaiImageTokens(4096, 8192, 'gpt-4o', 'low')).toBe(85);
    // "auto" is counted as high so an estimate never falls short.
    expect(openaiImageTokens(1024, 1024, 'gpt-4o', 'auto')).toBe(765);
  });

  it('uses each model family’s base and tile tokens, dated snapshots included', () => {
    expect(openaiImageTokens(1024, 1024, 'gpt-4o-2024-08-06')).toBe(765);
    expect(openaiImageTokens(1024, 1024, 'gpt-4.1')).toBe(765);
    expect(openaiImageTokens(1024, 1024, 'gpt-4o-mini')).toBe(2833 + 4 * 5667);
    expect(openaiImageTokens(1024, 1024, 'gpt-5')).toBe(70 + 4 * 140);
    expect(openaiImageTokens(1024, 1024, 'o3')).toBe(75 + 4 * 150);
    expect(openaiImageTokens(1024, 1024, 'gpt-4o-mini', 'low')).toBe(2833);
    // An unknown model behind an OpenAI-compatible server is estimated like gpt-4o.
    expect(openaiVisionScheme('llava:13b')).toEqual({ kind: 'tiles', base: 85, tile: 170 });
  });

  it('never upscales: a small image is one tile', () => {
    expect(openaiImageTokens(300, 200, 'gpt-4o')).toBe(85 + 170);
  });

  it('patch models: 32-px patches capped at 1536 (1024×1024 → 1024, 1800×2400 → 1452), × the model multiplier', () => {
    expect(openaiPatches(1024, 1024)).toBe(1024);
    expect(openaiPatches(1800, 2400)).toBe(1452);
    expect(openaiPatches(8000, 8000)).toBeLessThanOrEqual(1536);
    expect(openaiImageTokens(1024, 1024, 'gpt-4.1-mini')).toBe(Math.round(1024 * 1.62));
    expect(openaiImageTokens(1800, 2400, 'gpt-4.1-nano')).toBe(Math.round(1452 * 2.46));
    expect(openaiImageTokens(1024, 1024, 'o4-mini-2025-04-16')).toBe(Math.round(1024 * 1.72));
    expect(openaiImageTokens(1024, 1024, 'gpt-5-mini')).toBe(Math.round(1024 * 1.62));
    // Detail does not change patch models.
    expect(openaiImageTokens(1024, 1024, 'gpt-4.1-mini', 'low')).toBe(
      openaiImageTokens(1024, 1024, 'gpt-4.1-mini'),
    );
  });
});

describe('Anthropic image tokens', () => {
  it('⌈w/28⌉ × ⌈h/28⌉: 1000×1000 → 1296 (the issue’s published example)', () => {
    expect(anthropicImageTokens(1000, 1000)).toBe(1296);
    expect(anthropicImageTokens(200, 200)).toBe(64);
    expect(anthropicImageTokens(28, 29)).toBe(2);
  });

  it('resizes first to the native resolution (long edge 1568, ~1.15 MP): a huge image costs what its resized copy costs', () => {
    const huge = anthropicImageTokens(6000, 4000);
    expect(huge).toBe(anthropicImageTokens(1313, 875));
    expect(huge).toBeLessThanOrEqual(1600);
    expect(anthropicImageTokens(1568, 400)).toBe(56 * 15);
  });
});

describe('Gemini image tokens', () => {
  it('258 when both sides are ≤ 384 px', () => {
    expect(geminiImageTokens(384, 384)).toBe(258);
    expect(geminiImageTokens(100, 50)).toBe(258);
  });

  it('tiles by the crop unit ⌊min/1.5⌋: 960×540 → 6 tiles (the docs’ example) → 1548', () => {
    expect(geminiImageTokens(960, 540)).toBe(6 * 258);
    expect(geminiImageTokens(1000, 1000)).toBe(4 * 258);
    // The crop unit stays within 256–768 px.
    expect(geminiImageTokens(4000, 3000)).toBe(6 * 4 * 258);
    expect(geminiImageTokens(390, 100)).toBe(2 * 1 * 258);
  });
});

describe('text tokens and model lookup', () => {
  it('estimates ~4 characters per token', () => {
    expect(estimateTextTokens('')).toBe(0);
    expect(estimateTextTokens('abcde')).toBe(2);
  });

  it('matches exact names, then the longest name followed by "-"', () => {
    const table = { 'gpt-4o': 1, 'gpt-4o-mini': 2, 'gpt-5': 3 };
    expect(lookupModel(table, 'gpt-4o-mini-2024-07-18')).toBe(2);
    expect(lookupModel(table, 'gpt-4o-2024-08-06')).toBe(1);
    expect(lookupModel(table, 'gpt-5.4')).toBeUndefined();
  });
});

const usage = (input: number, output: number) => ({
  input_tokens: input,
  output_tokens: output,
  image_tokens: 0,
  estimated: false,
});

describe('price table and cost', () => {
  it('prices every model the issue names', () => {
    const names: Array<[string, string]> = [
      ...[
        'gpt-4o',
        'gpt-4o-mini',
        'gpt-4.1',
        'gpt-4.1-mini',
        'gpt-4.1-nano',
        'gpt-5',
        'gpt-5-mini',
        'gpt-5-nano',
        'o4-mini',
      ].map((m): [string, string] => ['openai', m]),
      ...['claude-opus-4-1', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-3-5-haiku'].map(
        (m): [string, string] => ['anthropic', m],
      ),
      ...['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash'].map(
        (m): [string, string] => ['gemini', m],
      ),
    ];
    for (const [provider, model] of names) {
      const price = modelPrice(provider, model);
      expect(price?.input, `${provider}/${model}`).toBeGreaterThan(0);
      expect(price?.output, `${provider}/${model}`).toBeGreaterThan(price?.input ?? 0);
    }
  });

  it('computes USD from usage, with the batch discount', () => {
    expect(costUsd('openai', 'gpt-4o', usage(1_000_000, 1_000_000))).toBe(12.5);
    expect(costUsd('openai', 'gpt-4o', usage(1_000_000, 1_000_000), { batch: true })).toBe(6.25);
    expect(costUsd('anthropic', 'claude-sonnet-4-5-20250929', usage(1000, 200))).toBeCloseTo(0.006, 10);
    expect(costUsd('gemini', 'gemini-2.5-flash', usage(1290, 100))).toBeCloseTo(0.000637, 10);
    expect(costUsd('local', 'tesseract-eng', usage(0, 0))).toBe(0);
  });

  it('says null, not free, when a price is unknown', () => {
    expect(costUsd('openai', 'gpt-9-ultra', usage(10, 10))).toBeNull();
    expect(costUsd('nobody', 'x', usage(10, 10))).toBeNull();
    expect(costUsd('imggo', 'managed-default', usage(0, 0))).toBeNull();
  });

  it('merges overrides from config over the defaults', () => {
    const table = loadPriceTable({
      openai: { models: { 'gpt-4o': { input: 2 }, 'my-finetune': { input: 1, output: 1 } } },
      imggo: { batchDiscount: 0.2, models: { 'managed-default': { perImage: 0.01 } } },
    });
    expect(table.openai?.models['gpt-4o']).toEqual({ input: 2, output: 10 });
    expect(table.openai?.batchDiscount).toBe(0.5);
    expect(costUsd('openai', 'my-finetune', usage(1_000_000, 0), { table })).toBe(1);
    expect(costUsd('imggo', 'managed-default', usage(0, 0), { table })).toBe(0.01);
    expect(costUsd('imggo', 'managed-default', usage(0, 0), { table, batch: true })).toBe(0.008);
  });

  it('refuses a malformed override, naming the field', () => {
    expect(() => loadPriceTable({ openai: { models: { 'gpt-4o': { input: -1 } } } })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: expect.stringContaining('openai.models.gpt-4o.input'),
      }),
    );
    expect(() => loadPriceTable({ openai: { batchDiscount: 2 } })).toThrow(/batchDiscount/);
  });
});
