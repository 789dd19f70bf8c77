import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import type { Pattern } from '../../src/patterns/types.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider, type OpenAIProviderOptions } from '../../src/providers/openai.js';
import type { ProviderImage } from '../../src/providers/spec.js';
import { type SimCall, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { startServer, type TestServer } from '../support/http.js';
import { textImage } from '../support/images.js';
import { asProviderImage, invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

const KEY = 'sk-test-openai-0123456789abcdef';
const signal = () => AbortSignal.timeout(20_000);

interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: string | Array<Record<string, unknown>> }>;
  response_format?: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
}

let sim: Simulator;
let image: ProviderImage;
const calls: SimCall[] = [];
const providers: OpenAIProvider[] = [];

function provider(options: OpenAIProviderOptions = {}): OpenAIProvider {
  const p = new OpenAIProvider({ baseUrl: sim.baseUrls.openai, apiKey: KEY, ...options });
  providers.push(p);
  return p;
}

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
    rpm: 1000,
    tpm: 10_000_000,
    answer: (call) => {
      calls.push(call);
      return call.kind === 'ask'
        ? false
        : {
            invoice_number: 'INV-7',
            vendor_name: 'ACME',
            invoice_date: null,
            total: 12.5,
            status: 'paid',
            line_items: [],
          };
    },
  });
  image = await asProviderImage(await solidJpeg(1024, 1024));
});

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  await sim.close();
  await closeAllAgents();
});

describe('openai provider: wire format', () => {
  it('sends Chat Completions with Bearer auth, a data URL at detail high and a strict json_schema', async () => {
    const result = await provider().extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal());
    const request = sim.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['accept-encoding']).toBe('gzip, deflate, br');
    const body = request.json as ChatBody;
    expect(body.model).toBe('gpt-4o');
    expect(body.temperature).toBe(0);
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'Invoice_basic', strict: true, schema: invoicePattern.schema },
    });
    expect(body.messages[0]).toMatchObject({ role: 'system' });
    const user = body.messages[1]!.content as Array<Record<string, unknown>>;
    expect(user[0]).toEqual({
      type: 'image_url',
      image_url: { url: `data:image/jpeg;base64,${image.data.toString('base64')}`, detail: 'high' },
    });
    expect(user[1]).toMatchObject({
      type: 'text',
      text: expect.stringContaining(invoicePattern.instructions),
    });

    expect(result.output).toEqual({
      invoice_number: 'INV-7',
      vendor_name: 'ACME',
      invoice_date: null,
      total: 12.5,
      status: 'paid',
      line_items: [],
    });
    const raw = result.raw as { usage: { prompt_tokens: number; completion_tokens: number } };
    expect(result.usage).toEqual({
      input_tokens: raw.usage.prompt_tokens,
      output_tokens: raw.usage.completion_tokens,
      image_tokens: 765,
      estimated: false,
    });
    expect(raw.usage.prompt_tokens).toBeGreaterThan(765);
    expect(result.rateLimit?.requests).toMatchObject({ limit: 1000 });
    expect(result.rateLimit?.tokens).toMatchObject({ limit: 10_000_000 });
    expect(sim.stats.compressed).toBeGreaterThan(0);
  });

  it('sizes and meters by detail: openai-high by default, openai-low (85 tokens) at detail low', async () => {
    expect(provider().sizeProfile('gpt-4o').name).toBe('openai-high');
    const low = provider({ detail: 'low' });
    expect(low.sizeProfile('gpt-4o').name).toBe('openai-low');
    expect(low.estimateImageTokens(4000, 3000, 'gpt-4o')).toBe(85);
    const result = await low.extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal());
    const body = sim.requests.at(-1)!.json as ChatBody;
    expect(
      (body.messages[1]!.content as Array<{ image_url?: { detail: string } }>)[0]!.image_url?.detail,
    ).toBe('low');
    expect(result.usage.image_tokens).toBe(85);
  });

  it('speaks to reasoning models with max_completion_tokens and no temperature (the simulator refuses the others)', async () => {
    const result = await provider({ maxOutputTokens: 500 }).extract(
      { image, pattern: invoicePattern, model: 'gpt-5-mini' },
      signal(),
    );
    const body = sim.requests.at(-1)!.json as ChatBody;
    expect(body.max_completion_tokens).toBe(500);
    expect(body.max_tokens).toBeUndefined();
    expect(body.temperature).toBeUndefined();
    expect(result.usage.image_tokens).toBe(Math.round(1024 * 1.62));
    const classic = await provider({ maxOutputTokens: 500 }).extract(
      { image, pattern: invoicePattern, model: 'gpt-4.1' },
      signal(),
    );
    expect(classic.output).toMatchObject({ total: 12.5 });
    expect((sim.requests.at(-1)!.json as ChatBody).max_tokens).toBe(500);
  });

  it('passes the original URL instead of the bytes when preprocessing changed nothing', async () => {
    let fetched = 0;
    const origin: TestServer = await startServer((_req, res) => {
      fetched++;
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.end(image.data);
    });
    try {
      const sourceUrl = `${origin.url}/scan.jpg`;
      await provider().extract(
        { image: { ...image, sourceUrl }, pattern: invoicePattern, model: 'gpt-4o' },
        signal(),
      );
      const body = sim.requests.at(-1)!.json as ChatBody;
      expect((body.messages[1]!.content as Array<Record<string, unknown>>)[0]).toEqual({
        type: 'image_url',
        image_url: { url: sourceUrl, detail: 'high' },
      });
      expect(fetched).toBe(1);
      expect(calls.at(-1)?.imageUrl).toBe(sourceUrl);
    } finally {
      await origin.close();
    }
  });

  it('asks yes/no questions in a tiny request at detail low', async () => {
    const answer = await provider().ask!(
      { image, question: 'Is this an invoice?', model: 'gpt-4o' },
      signal(),
    );
    const body = sim.requests.at(-1)!.json as ChatBody;
    expect(body.max_tokens).toBe(3);
    expect(body.response_format).toBeUndefined();
    expect(
      (body.messages[0]!.content as Array<{ image_url?: { detail: string } }>)[0]!.image_url?.detail,
    ).toBe('low');
    expect(answer).toMatchObject({ answer: false, usage: { image_tokens: 85, estimated: false } });
    expect(answer.confidence).toBeGreaterThan(0.5);
  });

  it('works with any OpenAI-compatible server: no key needed on loopback, api-key header for Azure-style gateways', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    const open = new OpenAIProvider({ baseUrl: 'http://localhost:11434/v1' });
    expect(open.baseUrl).toBe('http://localhost:11434/v1');
    await open.close();
    await provider({ authHeader: 'api-key' })
      .extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal())
      .catch(() => undefined);
    const request = sim.requests.at(-1)!;
    expect(request.headers['api-key']).toBe(KEY);
    expect(request.headers.authorization).toBeUndefined();
  });
});

describe('openai provider: responses without the usual fields', () => {
  let server: TestServer;
  let reply: unknown;

  beforeAll(async () => {
    server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });

  afterAll(() => server.close());

  const compatible = () => provider({ baseUrl: `${server.url}/v1` });

  it('estimates usage when the server reports none, and says so', async () => {
    reply = {
      choices: [{ message: { content: '{"invoice_number":"A","total":1}' }, finish_reason: 'stop' }],
    };
    const result = await compatible().extract({ image, pattern: invoicePattern, model: 'llava' }, signal());
    expect(result.output).toEqual({ invoice_number: 'A', total: 1 });
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.image_tokens).toBe(765);
    expect(result.usage.input_tokens).toBeGreaterThan(765);
    expect(result.usage.output_tokens).toBe(Math.ceil('{"invoice_number":"A","total":1}'.length / 4));
  });

  it('a refusal is a non-retryable BAD_RESPONSE; cut-off JSON is BAD_RESPONSE naming the cause', async () => {
    reply = {
      choices: [{ message: { content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop' }],
    };
    const refused = await failure(
      compatible().extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal()),
    );
    expect(refused).toMatchObject({ code: 'BAD_RESPONSE', retryable: false });
    expect(refused.message).toBe('openai: the model refused: I cannot help with that.');
    reply = { choices: [{ message: { content: '{"invoice_number":"A","to' }, finish_reason: 'length' }] };
    const cut = await failure(
      compatible().extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal()),
    );
    expect(cut.code).toBe('BAD_RESPONSE');
    expect(cut.message).toMatch(/not valid JSON \(cut off at the output token limit\)/);
    reply = { nothing: true };
    const shape = await failure(
      compatible().extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal()),
    );
    expect(shape.message).toMatch(/^openai: unexpected chat completion at choices/);
  });
});

describe('openai provider: errors', () => {
  it('builds without OPENAI_API_KEY (estimates need none) but refuses to call a remote base URL, naming the variable', () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    const keyless = new OpenAIProvider();
    expect(keyless.estimateImageTokens(1024, 1024, 'gpt-4o')).toBe(765);
    expect(() => keyless.checkCredentials()).toThrow(
      expect.objectContaining({
        code: 'MISSING_API_KEY',
        message: expect.stringContaining('OPENAI_API_KEY'),
      }),
    );
    vi.stubEnv('OPENAI_API_KEY', KEY);
    expect(() => new OpenAIProvider().close()).not.toThrow();
  });

  it('401 → AUTH_FAILED (wrong key and missing key)', async () => {
    const strict = await startSimulator({ apiKeys: ['sk-the-right-one-000000'] });
    try {
      const wrong = await failure(
        new OpenAIProvider({ baseUrl: strict.baseUrls.openai, apiKey: KEY }).extract(
          { image, pattern: invoicePattern, model: 'gpt-4o' },
          signal(),
        ),
      );
      expect(wrong).toMatchObject({ code: 'AUTH_FAILED', status: 401, retryable: false });
      expect(wrong.message).toMatch(
        /^openai: HTTP 401 invalid_api_key: Incorrect API key provided: \[redacted\]/,
      );
      vi.stubEnv('OPENAI_API_KEY', '');
      const missing = await failure(
        new OpenAIProvider({ baseUrl: strict.baseUrls.openai }).extract(
          { image, pattern: invoicePattern, model: 'gpt-4o' },
          signal(),
        ),
      );
      expect(missing).toMatchObject({ code: 'AUTH_FAILED', status: 401 });
      expect(strict.requests.at(-1)!.headers.authorization).toBeUndefined();
    } finally {
      await strict.close();
    }
  });

  it('400 → BAD_REQUEST, 503 overloaded → PROVIDER_UNAVAILABLE, malformed JSON → BAD_RESPONSE, reset → CONNECTION_FAILED', async () => {
    const p = provider();
    const run = () => p.extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal());
    sim.inject('bad-request');
    expect(await failure(run())).toMatchObject({ code: 'BAD_REQUEST', status: 400, retryable: false });
    sim.inject('529');
    expect(await failure(run())).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      status: 503,
      retryable: true,
    });
    sim.inject('5xx');
    expect(await failure(run())).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', status: 500 });
    sim.inject('malformed');
    expect(await failure(run())).toMatchObject({ code: 'BAD_RESPONSE', status: 200 });
    sim.inject('reset');
    expect(await failure(run())).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    // The pool recovers: the next call succeeds on a new connection.
    expect((await run()).output).toMatchObject({ total: 12.5 });
  });

  it('a stalled body hits the timeout: PROVIDER_TIMEOUT', async () => {
    sim.inject('slow-body');
    const error = await failure(
      provider({ timeoutMs: 300 }).extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal()),
    );
    expect(error.code).toBe('PROVIDER_TIMEOUT');
  });

  it('429 → RATE_LIMITED with retryAfterMs from retry-after-ms; insufficient_quota → QUOTA_EXCEEDED', async () => {
    const limited = await startSimulator({ rpm: 1, timeScale: 0.01 });
    try {
      const p = new OpenAIProvider({ baseUrl: limited.baseUrls.openai, apiKey: KEY });
      await p.extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal());
      const error = await failure(p.extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, signal()));
      expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryable: true });
      expect(error.message).toMatch(/^openai: HTTP 429 rate_limit_exceeded: Rate limit reached/);
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(600);
      await p.close();
    } finally {
      await limited.close();
    }
    const broke = await startSimulator({ quotaExceeded: true });
    try {
      const error = await failure(
        new OpenAIProvider({ baseUrl: broke.baseUrls.openai, apiKey: KEY }).extract(
          { image, pattern: invoicePattern, model: 'gpt-4o' },
          signal(),
        ),
      );
      expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', status: 429, retryable: false });
    } finally {
      await broke.close();
    }
  });

  it('rejects an invalid detail option, naming it', () => {
    expect(() => new OpenAIProvider({ apiKey: KEY, detail: 'ultra' as 'low' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'detail' }),
    );
  });
});

describe('simulator answers from the local engine', () => {
  const pattern: Pattern = invoicePattern;
  let local: Simulator;

  beforeAll(async () => {
    local = await startSimulator({ answer: 'local', localWorkers: 1 });
  });

  afterAll(() => local.close());

  it('reads a legible document sent through the openai provider, and reads worse from a shrunken copy', async () => {
    const doc = await textImage([
      { text: 'NORTHWIND TRADERS LTD', bold: true, size: 44 },
      '12 Harbour Road, Bristol',
      '',
      'Invoice No: INV-20417',
      'Date Issued: 14/03/2024',
      '',
      { text: 'TOTAL      £240.00', bold: true },
    ]);
    const p = new OpenAIProvider({ baseUrl: local.baseUrls.openai, apiKey: KEY });
    const sharp1 = await p.extract(
      { image: await asProviderImage(doc), pattern, model: 'gpt-4o' },
      AbortSignal.timeout(60_000),
    );
    expect(sharp1.output).toMatchObject({
      invoice_number: 'INV-20417',
      total: 240,
      invoice_date: '2024-03-14',
    });
    const meta = await sharp(doc).metadata();
    const tiny = await sharp(doc)
      .resize(Math.round((meta.width ?? 0) / 8))
      .png()
      .toBuffer();
    const blurred = await p.extract(
      { image: await asProviderImage(tiny), pattern, model: 'gpt-4o' },
      AbortSignal.timeout(60_000),
    );
    expect(blurred.output).not.toMatchObject({ invoice_number: 'INV-20417', total: 240 });
    await p.close();
  });
});
