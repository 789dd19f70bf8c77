import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { parsePattern } from '../../src/patterns/index.js';
import { GeminiProvider, geminiResponseSchema, toGeminiSchema } from '../../src/providers/gemini.js';
import { closeAllAgents } from '../../src/providers/http.js';
import type { ProviderImage } from '../../src/providers/spec.js';
import { type SimCall, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { asProviderImage, invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

const KEY = 'AIzaSy-test-gemini-0123456789';
const signal = () => AbortSignal.timeout(20_000);

interface GenerateBody {
  contents: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
  systemInstruction?: { parts: Array<{ text: string }> };
  generationConfig: {
    responseMimeType?: string;
    responseSchema?: Record<string, unknown>;
    temperature?: number;
    maxOutputTokens?: number;
    thinkingConfig?: { thinkingBudget: number };
  };
}

let sim: Simulator;
let image: ProviderImage;
let provider: GeminiProvider;
const calls: SimCall[] = [];

async function failure(promise: Promise<unknown>): Promise<VisionpipeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VisionpipeError);
  return error as VisionpipeError;
}

beforeAll(async () => {
  sim = await startSimulator({
    rpm: 100,
    answer: (call) => {
      calls.push(call);
      return call.kind === 'ask'
        ? 'No.'
        : {
            invoice_number: 'G-1',
            vendor_name: 'Gadgets',
            invoice_date: null,
            total: 3.5,
            status: 'unpaid',
            line_items: [{ description: 'x', amount: 3.5 }],
          };
    },
  });
  image = await asProviderImage(await solidJpeg(1000, 1000));
  provider = new GeminiProvider({ baseUrl: sim.baseUrls.gemini, apiKey: KEY });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(async () => {
  await provider.close();
  await sim.close();
  await closeAllAgents();
});

describe('gemini responseSchema', () => {
  it('converts nullable unions, drops additionalProperties, keeps property order, strings-only enums', () => {
    expect(toGeminiSchema({ type: ['string', 'null'] })).toEqual({ type: 'STRING', nullable: true });
    expect(toGeminiSchema({ type: 'integer', description: 'count' })).toEqual({
      type: 'INTEGER',
      description: 'count',
    });
    expect(toGeminiSchema({ type: ['string', 'null'], enum: ['a', 'b', null] })).toEqual({
      type: 'STRING',
      nullable: true,
      format: 'enum',
      enum: ['a', 'b'],
    });
    expect(toGeminiSchema({ type: 'number', enum: [1, 2] })).toEqual({ type: 'NUMBER' });
    expect(toGeminiSchema({ type: ['string', 'number'] })).toEqual({
      anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }],
    });
    expect(toGeminiSchema({ type: 'string', format: 'date', description: 'Issued' })).toEqual({
      type: 'STRING',
      description: 'Issued; format: date',
    });
    expect(toGeminiSchema({ type: 'string', format: 'date-time' })).toEqual({
      type: 'STRING',
      format: 'date-time',
    });
    const schema = toGeminiSchema(invoicePattern.schema);
    expect(JSON.stringify(schema)).not.toContain('additionalProperties');
    expect(schema.propertyOrdering).toEqual(Object.keys(invoicePattern.schema.properties));
    expect(schema.properties?.vendor_name).toEqual({ type: 'STRING', nullable: true });
    expect(schema.properties?.line_items).toMatchObject({
      type: 'ARRAY',
      nullable: true,
      items: { type: 'OBJECT', propertyOrdering: ['description', 'amount'] },
    });
  });

  it('keeps a plain pattern’s fields required', () => {
    const pattern = parsePattern(
      { name: 'r', format: 'csv', instructions: 'x', csv_schema: 'merchant,total' },
      'inline',
    );
    expect(toGeminiSchema(pattern.schema).required).toEqual(['merchant', 'total']);
  });
});

describe('gemini provider: wire format', () => {
  it('posts generateContent with x-goog-api-key (never ?key=), inline_data and a responseSchema', async () => {
    const result = await provider.extract(
      { image, pattern: invoicePattern, model: 'gemini-2.5-flash' },
      signal(),
    );
    const request = sim.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(request.headers['x-goog-api-key']).toBe(KEY);
    expect(request.headers.authorization).toBeUndefined();
    const body = request.json as GenerateBody;
    expect(body.contents[0]!.parts[0]).toEqual({
      inline_data: { mime_type: 'image/jpeg', data: image.data.toString('base64') },
    });
    expect(body.contents[0]!.parts[1]).toMatchObject({
      text: expect.stringContaining(invoicePattern.instructions),
    });
    expect(body.systemInstruction?.parts[0]?.text).toBeTruthy();
    expect(body.generationConfig).toMatchObject({
      responseMimeType: 'application/json',
      responseSchema: geminiResponseSchema(invoicePattern),
      temperature: 0,
    });
    // The simulator turned the schema back into JSON Schema for its answerer.
    expect(calls.at(-1)?.schema).toMatchObject({
      type: 'object',
      properties: { total: { type: ['number', 'null'] } },
    });

    expect(result.output).toMatchObject({ invoice_number: 'G-1', total: 3.5 });
    const raw = result.raw as { usageMetadata: { promptTokenCount: number; candidatesTokenCount: number } };
    expect(result.usage).toEqual({
      input_tokens: raw.usageMetadata.promptTokenCount,
      output_tokens: raw.usageMetadata.candidatesTokenCount,
      image_tokens: 1032,
      estimated: false,
    });
    expect(result.model).toBe('gemini-2.5-flash');
  });

  it('asks yes/no with thinking off on 2.5 Flash', async () => {
    const answer = await provider.ask!(
      { image, question: 'Is this a receipt?', model: 'gemini-2.5-flash' },
      signal(),
    );
    const body = sim.requests.at(-1)!.json as GenerateBody;
    expect(body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 0 });
    expect(body.generationConfig.maxOutputTokens).toBe(5);
    expect(answer).toMatchObject({ answer: false, usage: { image_tokens: 1032 } });
  });

  it('sizes images to 2×2 Gemini tiles', () => {
    expect(provider.sizeProfile().name).toBe('gemini');
    expect(provider.estimateImageTokens(960, 540)).toBe(1548);
  });
});

describe('gemini provider: errors', () => {
  const run = (p = provider) =>
    p.extract({ image, pattern: invoicePattern, model: 'gemini-2.5-flash' }, signal());

  it('needs GEMINI_API_KEY for the real API', () => {
    vi.stubEnv('GEMINI_API_KEY', '');
    expect(() => new GeminiProvider().checkCredentials()).toThrow(
      expect.objectContaining({
        code: 'MISSING_API_KEY',
        message: expect.stringContaining('GEMINI_API_KEY'),
      }),
    );
  });

  it('a wrong key (400 API_KEY_INVALID) and a missing one (403) are AUTH_FAILED', async () => {
    const strict = await startSimulator({ apiKeys: ['AIza-the-right-one-123456'] });
    try {
      const wrong = await failure(run(new GeminiProvider({ baseUrl: strict.baseUrls.gemini, apiKey: KEY })));
      expect(wrong).toMatchObject({ code: 'AUTH_FAILED', status: 400, retryable: false });
      vi.stubEnv('GEMINI_API_KEY', '');
      const missing = await failure(run(new GeminiProvider({ baseUrl: strict.baseUrls.gemini })));
      expect(missing).toMatchObject({ code: 'AUTH_FAILED', status: 403 });
    } finally {
      await strict.close();
    }
  });

  it('429 RESOURCE_EXHAUSTED → RATE_LIMITED with the RetryInfo delay; a daily quota → QUOTA_EXCEEDED', async () => {
    const limited = await startSimulator({ rpm: 1, timeScale: 0.01 });
    try {
      const p = new GeminiProvider({ baseUrl: limited.baseUrls.gemini, apiKey: KEY });
      await run(p);
      const error = await failure(run(p));
      expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(600);
    } finally {
      await limited.close();
    }
    const broke = await startSimulator({ quotaExceeded: true });
    try {
      expect(
        await failure(run(new GeminiProvider({ baseUrl: broke.baseUrls.gemini, apiKey: KEY }))),
      ).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        retryable: false,
      });
    } finally {
      await broke.close();
    }
  });

  it('503 overloaded → PROVIDER_UNAVAILABLE, malformed → BAD_RESPONSE, reset → CONNECTION_FAILED', async () => {
    sim.inject('529');
    expect(await failure(run())).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', status: 503 });
    sim.inject('malformed');
    expect(await failure(run())).toMatchObject({ code: 'BAD_RESPONSE' });
    sim.inject('reset');
    expect(await failure(run())).toMatchObject({ code: 'CONNECTION_FAILED' });
  });

  it('the simulator refuses JSON Schema keywords outside Gemini’s subset, as the API does', async () => {
    const response = await fetch(`${sim.baseUrls.gemini}/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        contents: [{ parts: [{ text: 'hi' }] }],
        generationConfig: { responseSchema: { type: 'OBJECT', additionalProperties: false } },
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toMatch(/Unknown name "additionalProperties"/);
  });
});
