import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { SIZE_PROFILES } from '../../src/image/profiles.js';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { limitsWithinBudget } from '../../src/pipeline/sizing.js';
import type { AskRequest, ExtractRequest, Provider } from '../../src/providers/spec.js';
import { openaiImageTokens } from '../../src/providers/tokens.js';
import { corpus, photoLikeJpeg } from '../support/images.js';

const pattern = parsePattern(
  {
    name: 'receipt',
    format: 'json',
    instructions: 'Merchant and total.',
    json_schema: { merchant: 'string', total: 'number' },
  },
  'test',
);

/**
 * A scripted model: the pipeline's cascade decisions are under test, so answers are
 * controlled. `asks` and `extracts` record every call (what was sent, at what size).
 */
function scripted(
  id: string,
  behaviour: { relevant?: (sha: string) => boolean; output?: unknown; confidence?: number; fail?: string },
) {
  const asks: AskRequest[] = [];
  const extracts: ExtractRequest[] = [];
  const provider: Provider = {
    id,
    defaultModel: `${id}-model`,
    sizeProfile: () => SIZE_PROFILES['openai-high'],
    estimateImageTokens: (w, h) => openaiImageTokens(w, h, 'gpt-4o'),
    async extract(request) {
      extracts.push(request);
      if (behaviour.fail) throw new VisionpipeError('BAD_REQUEST', behaviour.fail);
      return {
        output: behaviour.output ?? { merchant: id, total: 1 },
        usage: { input_tokens: 1000, output_tokens: 50, image_tokens: 900, estimated: false },
        model: request.model,
        ...(behaviour.confidence === undefined ? {} : { confidence: behaviour.confidence }),
      };
    },
    async ask(request) {
      asks.push(request);
      const answer = behaviour.relevant ? behaviour.relevant(request.image.sha256) : true;
      return {
        answer,
        confidence: 0.9,
        usage: { input_tokens: 90, output_tokens: 1, image_tokens: 85, estimated: false },
        model: request.model,
        reason: answer ? 'looks like one' : 'a landscape',
      };
    },
    close: async () => {},
  };
  return { provider, asks, extracts };
}

describe('triage', () => {
  it('skips irrelevant images after one cheap low-resolution question: they never reach extraction', async () => {
    const irrelevant = await readFile(corpus('dices1.jpg'));
    const relevant = await readFile(corpus('invoice1.jpg'));
    const photoSha = (await import('../../src/image/fingerprint.js')).sha256(irrelevant);
    const cheap = scripted('cheap', { relevant: (sha) => sha !== photoSha });
    const main = scripted('main', {});
    const pipeline = await createPipeline({
      pattern,
      provider: main.provider,
      triage: { provider: cheap.provider },
    });
    const skipped = await pipeline.process(irrelevant, { label: 'dices1.jpg' });
    const kept = await pipeline.process(relevant, { label: 'invoice1.jpg' });

    expect(skipped).toMatchObject({ status: 'skipped', output: null, reason: 'a landscape', attempts: 1 });
    expect(skipped.cascade.triage).toMatchObject({ relevant: false, provider: 'cheap' });
    expect(skipped.usage.input_tokens).toBe(90); // only the question was paid
    expect(kept).toMatchObject({ status: 'ok', attempts: 2 });
    expect(kept.usage.input_tokens).toBe(1090);
    expect(main.extracts).toHaveLength(1);
    expect(main.extracts[0]!.image.sha256).not.toBe(photoSha);
    // The question went at the triage profile: 256 px.
    for (const ask of cheap.asks)
      expect(Math.max(ask.image.width, ask.image.height)).toBeLessThanOrEqual(256);
  });

  it('remembers verdicts: a second run asks nothing again', async () => {
    const cheap = scripted('cheap', { relevant: () => false });
    const main = scripted('main', {});
    const { openCache } = await import('../../src/cache/open-cache.js');
    const cache = await openCache({ spec: 'memory' });
    for (let run = 0; run < 2; run++) {
      const pipeline = await createPipeline({
        pattern,
        provider: main.provider,
        triage: { provider: cheap.provider },
        cache,
      });
      const record = await pipeline.process(corpus('dices1.jpg'));
      expect(record.status).toBe('skipped');
    }
    expect(cheap.asks).toHaveLength(1);
    expect(main.extracts).toHaveLength(0);
    await cache.close();
  });
});

describe('escalation', () => {
  it('retries once on the stronger model when the output fails the schema, and says so', async () => {
    const weak = scripted('weak', { output: { merchant: 42 } }); // wrong type, missing total
    const strong = scripted('strong', {});
    const pipeline = await createPipeline({
      pattern,
      provider: weak.provider,
      escalation: { provider: strong.provider },
    });
    const record = await pipeline.process(corpus('invoice1.jpg'));
    expect(record).toMatchObject({
      status: 'ok',
      output: { merchant: 'strong', total: 1 },
      model: 'strong-model',
      attempts: 2,
    });
    expect(record.cascade.escalated_from).toBe('weak:weak-model');
    expect(record.cascade.escalation_reason).toContain('SCHEMA_MISMATCH');
    expect(record.usage.input_tokens).toBe(2000); // both calls were paid
  });

  it('escalates below the confidence threshold, and only then', async () => {
    for (const [confidence, expected] of [
      [0.4, 1],
      [0.9, 0],
    ] as const) {
      const weak = scripted('weak', { confidence });
      const strong = scripted('strong', {});
      const pipeline = await createPipeline({
        pattern,
        provider: weak.provider,
        escalation: { provider: strong.provider, below: 0.6 },
      });
      const record = await pipeline.process(corpus('invoice1.jpg'));
      expect(strong.extracts, `confidence ${confidence}`).toHaveLength(expected);
      expect(record.model).toBe(expected ? 'strong-model' : 'weak-model');
    }
  });

  it('does not escalate an outage or a rejected request: a stronger model cannot fix those', async () => {
    const weak = scripted('weak', { fail: 'bad image' });
    const strong = scripted('strong', {});
    const pipeline = await createPipeline({
      pattern,
      provider: weak.provider,
      escalation: { provider: strong.provider },
    });
    const record = await pipeline.process(corpus('invoice1.jpg'));
    expect(record.error?.code).toBe('BAD_REQUEST');
    expect(strong.extracts).toHaveLength(0);
  });
});

describe("escalation on the pattern's own rules", () => {
  const strict = parsePattern(
    {
      name: 'invoice',
      format: 'json',
      instructions: 'Invoice number and total.',
      json_schema: {
        type: 'object',
        properties: {
          invoice_number: { type: 'string', pattern: '^INV-[0-9]+$' },
          total: { type: 'number', minimum: 0 },
          note: { type: 'string' },
        },
        required: ['invoice_number', 'total'],
      },
    },
    'test',
  );
  const good = { invoice_number: 'INV-1', total: 3, note: null };

  it('a broken constraint is SCHEMA_MISMATCH; the escalation reason names the fields and rules', async () => {
    const weak = scripted('weak', { output: { invoice_number: 'hello', total: -5, note: null } });
    const strong = scripted('strong', { output: good });
    const pipeline = await createPipeline({
      pattern: strict,
      provider: weak.provider,
      escalation: { provider: strong.provider },
    });
    const record = await pipeline.process(corpus('invoice1.jpg'));
    expect(record).toMatchObject({ status: 'ok', output: good, model: 'strong-model' });
    expect(record.cascade.escalation_reason).toBe(
      'SCHEMA_MISMATCH on weak-model (/invoice_number pattern, /total minimum)',
    );

    const alone = await createPipeline({ pattern: strict, provider: weak.provider });
    const failed = await alone.process(corpus('invoice1.jpg'));
    expect(failed.error?.code).toBe('SCHEMA_MISMATCH');
    expect(failed.error?.message).toContain('/total must be >= 0 (minimum 0, got -5)');
  });

  it('a field the pattern requires left null ("not found") is ok alone, and escalated when it can be', async () => {
    const missing = { invoice_number: null, total: 3, note: null };
    const weak = scripted('weak', { output: missing });
    const alone = await createPipeline({ pattern: strict, provider: weak.provider });
    expect(await alone.process(corpus('invoice1.jpg'))).toMatchObject({ status: 'ok', output: missing });

    const strong = scripted('strong', { output: good });
    const pipeline = await createPipeline({
      pattern: strict,
      provider: weak.provider,
      escalation: { provider: strong.provider },
    });
    const record = await pipeline.process(corpus('invoice2.jpg'));
    expect(record).toMatchObject({ status: 'ok', output: good, model: 'strong-model' });
    expect(record.cascade.escalation_reason).toBe('required /invoice_number not found by weak-model');
  });

  it('a null in a field the pattern does not require is no reason to escalate', async () => {
    const weak = scripted('weak', { output: good });
    const strong = scripted('strong', { output: good });
    const pipeline = await createPipeline({
      pattern: strict,
      provider: weak.provider,
      escalation: { provider: strong.provider },
    });
    const record = await pipeline.process(corpus('invoice3.jpg'));
    expect(record.model).toBe('weak-model');
    expect(strong.extracts).toHaveLength(0);
  });
});

describe('token-aware sizing', () => {
  it('sends the largest size whose image tokens fit the budget', async () => {
    const main = scripted('main', {});
    const photo = await photoLikeJpeg(4000, 3000, 3);
    const pipeline = await createPipeline({ pattern, provider: main.provider, maxImageTokens: 500 });
    const record = await pipeline.process(photo);
    const sent = main.extracts[0]!.image;
    expect(openaiImageTokens(sent.width, sent.height, 'gpt-4o')).toBeLessThanOrEqual(500);
    // One more pixel on the long edge would cost more than the budget.
    const bigger = limitsWithinBudget(4000, 3000, { maxLongEdge: 2048, maxShortEdge: 768 }, 500, (w, h) =>
      openaiImageTokens(w, h, 'gpt-4o'),
    );
    expect(Math.max(sent.width, sent.height)).toBe(bigger.maxLongEdge);
    expect(record.image).toMatchObject({
      width: sent.width,
      tokens: openaiImageTokens(sent.width, sent.height, 'gpt-4o'),
    });
    expect(record.image?.original_tokens).toBe(openaiImageTokens(4000, 3000, 'gpt-4o'));
    expect(record.image!.original_tokens!).toBeGreaterThan(record.image!.tokens!);
  });

  it('leaves images alone that already fit, and each profile within its limits', () => {
    const estimate = (w: number, h: number) => openaiImageTokens(w, h, 'gpt-4o');
    expect(limitsWithinBudget(500, 400, { maxLongEdge: 2048 }, 1000, estimate)).toEqual({
      maxLongEdge: 2048,
    });
    const tight = limitsWithinBudget(4000, 3000, { maxLongEdge: 2048, maxShortEdge: 768 }, 85, estimate);
    expect(tight.maxLongEdge).toBeLessThanOrEqual(512);
    void sharp;
  });
});
