/**
 * Model-aware sizing and provider hard limits (issue 11 §6), through the real pipeline,
 * real sharp and the simulator speaking each provider's wire format:
 *  - each OpenAI model is sized by how it is billed (patch models keep 1024² within 1536
 *    patches; tile models get the short side 768);
 *  - a provider's hard limits hold even with `--profile none`: the image is brought within
 *    them, or fails locally with IMAGE_TOO_LARGE before any upload; the simulator answers
 *    the provider's own 400 beyond them.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { SIZE_PROFILES } from '../../src/image/profiles.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { rawByteBudget } from '../../src/pipeline/provider-limits.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { Provider } from '../../src/providers/spec.js';
import { openaiImageTokens } from '../../src/providers/tokens.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { seededBytes } from '../support/images.js';
import { asProviderImage, invoicePattern } from '../support/simulator-fixtures.js';

let sim: Simulator;
const signal = () => AbortSignal.timeout(60_000);

/** Noise compresses badly: the byte limits bite at sizes a test can make quickly. */
async function noise(width: number, height: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const tile = sharp(seededBytes(256 * 256 * 3, width + height), {
    raw: { width: 256, height: 256, channels: 3 },
  });
  const raw = await tile.resize(width, height, { kernel: 'nearest' }).raw().toBuffer();
  // Nearest-neighbour blocks compress well; add per-pixel noise on top.
  const extra = seededBytes(raw.length, 7);
  for (let i = 0; i < raw.length; i++) raw[i] = (raw[i]! + extra[i]!) & 0xff;
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === 'png'
    ? image.png({ compressionLevel: 1 }).toBuffer()
    : image.jpeg({ quality: 95 }).toBuffer();
}

beforeAll(async () => {
  sim = await startSimulator({ answer: 'empty' });
});

afterAll(async () => {
  await sim.close();
  await closeAllAgents();
});

const openai = () => new OpenAIProvider({ apiKey: 'sim', baseUrl: sim.baseUrls.openai });

describe('each OpenAI model is sized by how it is billed', () => {
  it.each([
    ['gpt-4.1-mini', 'openai-patches'],
    ['gpt-4.1-nano', 'openai-patches'],
    ['gpt-4.1-mini-2025-04-14', 'openai-patches'],
    ['gpt-5-mini', 'openai-patches'],
    ['gpt-5-nano', 'openai-patches'],
    ['o4-mini', 'openai-patches'],
    ['gpt-4o', 'openai-high'],
    ['gpt-4.1', 'openai-high'],
    ['gpt-5', 'openai-high'],
    ['o3', 'openai-high'],
    ['llava', 'openai-high'],
  ])('%s → %s', async (model, profile) => {
    const provider = openai();
    expect(provider.sizeProfile(model).name).toBe(profile);
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider,
      model,
      cache: { spec: 'off' },
    });
    const planned = pipeline.plan(1024, 1024);
    expect([planned.width, planned.height]).toEqual(profile === 'openai-patches' ? [1024, 1024] : [768, 768]);
    await pipeline.close();
    await provider.close();
  });

  it('a patch model keeps a 1024² scan at 1024² end to end, and the simulator bills it as such', async () => {
    const provider = openai();
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider,
      model: 'gpt-4.1-mini',
      cache: { spec: 'off' },
    });
    const record = await pipeline.process(await noise(1024, 1024), { signal: signal() });
    expect(record).toMatchObject({ status: 'ok', profile: 'openai-patches' });
    expect(record.image).toMatchObject({ width: 1024, height: 1024, tokens: Math.round(1024 * 1.62) });
    expect(record.usage.image_tokens).toBe(Math.round(1024 * 1.62));
    await pipeline.close();
    await provider.close();
  });

  it('above the patch budget the image goes at the size OpenAI would shrink it to (1800×2400 → 1056×1408)', async () => {
    const provider = openai();
    const pipeline = await createPipeline({ pattern: invoicePattern, provider, model: 'gpt-4.1-mini' });
    expect(pipeline.plan(1800, 2400)).toMatchObject({ width: 1056, height: 1408 });
    expect(openaiImageTokens(1056, 1408, 'gpt-4.1-mini')).toBe(openaiImageTokens(1800, 2400, 'gpt-4.1-mini'));
    expect(openaiImageTokens(1800, 2400, 'gpt-4.1-mini')).toBe(Math.round(1452 * 1.62));
    await pipeline.close();
    await provider.close();
  });

  it('detail low still sends 512 px, whatever the model', () => {
    const low = new OpenAIProvider({ apiKey: 'sim', baseUrl: sim.baseUrls.openai, detail: 'low' });
    expect(low.sizeProfile('gpt-4.1-mini').name).toBe('openai-low');
    expect(low.sizeProfile('gpt-4o').name).toBe('openai-low');
  });
});

describe("a provider's hard limits hold even with --profile none", () => {
  const cases = [
    {
      name: 'anthropic: over 8000 px is brought within 8000 px',
      image: () =>
        sharp({ create: { width: 8400, height: 300, channels: 3, background: '#f0f0f0' } })
          .jpeg()
          .toBuffer(),
      provider: () => new AnthropicProvider({ apiKey: 'sim', baseUrl: sim.baseUrls.anthropic }),
      model: 'claude-sonnet-4-5',
      refusal: 'At least one of the image dimensions exceed max allowed size: 8000 pixels',
      preprocess: {},
      sent: (record: RunRecord) => expect(record.image?.width).toBe(8000),
    },
    {
      name: 'anthropic: over 5 MB of base64 is sent smaller, and the record says so',
      image: () => noise(2600, 2600),
      provider: () => new AnthropicProvider({ apiKey: 'sim', baseUrl: sim.baseUrls.anthropic }),
      model: 'claude-sonnet-4-5',
      refusal: 'image exceeds 5 MB maximum',
      preprocess: { quality: 95 },
      sent: (record: RunRecord) => expect(record.profile).toBe('none≤anthropic-limit'),
    },
    {
      name: 'gemini: a request over 20 MB is brought within it',
      image: () => noise(3000, 2600, 'png'),
      provider: () => new GeminiProvider({ apiKey: 'sim', baseUrl: sim.baseUrls.gemini }),
      model: 'gemini-2.5-flash',
      refusal: 'Request payload size exceeds the limit: 20971520 bytes',
      preprocess: { format: 'png' as const },
      sent: (record: RunRecord) => expect(record.image?.width).toBeLessThan(3000),
    },
  ];

  it.each(cases)('$name; the simulator answers the real 400 for the original', async (c) => {
    const original = await c.image();
    const provider = c.provider();
    const refused = await provider
      .extract({ image: await asProviderImage(original), pattern: invoicePattern, model: c.model }, signal())
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toMatchObject({ code: 'IMAGE_TOO_LARGE', message: expect.stringContaining(c.refusal) });
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider,
      model: c.model,
      profile: 'none',
      preprocess: c.preprocess,
      cache: { spec: 'off' },
    });
    const record = await pipeline.process(original, { signal: signal() });
    expect(record.status).toBe('ok');
    expect(record.image!.bytes).toBeLessThanOrEqual(rawByteBudget(provider.limits)!);
    c.sent(record);
    await pipeline.close();
    await provider.close();
  });

  it('an image that cannot be brought within the limits fails locally with IMAGE_TOO_LARGE: nothing is uploaded', async () => {
    let calls = 0;
    const tiny: Provider = {
      id: 'tiny',
      defaultModel: 'tiny-1',
      limits: { maxImageBytes: 100 },
      sizeProfile: () => SIZE_PROFILES.none,
      estimateImageTokens: () => 0,
      async extract() {
        calls++;
        throw new VisionpipeError('INTERNAL', 'must not be called');
      },
      close: async () => {},
    };
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider: tiny,
      cache: { spec: 'off' },
    });
    const record = await pipeline.process(await noise(400, 300), { label: 'big.jpg' });
    expect(record).toMatchObject({ status: 'error', attempts: 0, error: { code: 'IMAGE_TOO_LARGE' } });
    expect(record.error?.message).toContain('big.jpg');
    expect(calls).toBe(0);
    await pipeline.close();
  });
});
