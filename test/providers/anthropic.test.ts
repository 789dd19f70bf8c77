import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { ANTHROPIC_VERSION, AnthropicProvider } from '../../src/providers/anthropic.js';
import { closeAllAgents } from '../../src/providers/http.js';
import type { ProviderImage } from '../../src/providers/spec.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { asProviderImage, invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

const KEY = 'sk-ant-test-0123456789abcdef';
const signal = () => AbortSignal.timeout(20_000);
const OUTPUT = {
  invoice_number: 'INV-9',
  vendor_name: null,
  invoice_date: '2024-05-01',
  total: 99,
  status: null,
  line_items: [],
};

interface MessagesBody {
  model: string;
  max_tokens: number;
  system?: string;
  messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
  tools?: Array<{ name: string; description: string; input_schema: unknown }>;
  tool_choice?: { type: string; name: string };
}

let sim: Simulator;
let image: ProviderImage;
let provider: AnthropicProvider;

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
    rpm: 500,
    tpm: 1_000_000,
    answer: (call) => (call.kind === 'ask' ? true : OUTPUT),
  });
  image = await asProviderImage(await solidJpeg(1000, 1000));
  provider = new AnthropicProvider({ baseUrl: sim.baseUrls.anthropic, apiKey: KEY });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(async () => {
  await provider.close();
  await sim.close();
  await closeAllAgents();
});

describe('anthropic provider: wire format', () => {
  it('sends Messages with x-api-key, anthropic-version, a base64 image and a forced tool whose input_schema is the pattern', async () => {
    const result = await provider.extract(
      { image, pattern: invoicePattern, model: 'claude-sonnet-4-5' },
      signal(),
    );
    const request = sim.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/messages');
    expect(request.headers['x-api-key']).toBe(KEY);
    expect(request.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(request.headers.authorization).toBeUndefined();
    expect(request.headers['content-type']).toBe('application/json');
    const body = request.json as MessagesBody;
    expect(body.model).toBe('claude-sonnet-4-5');
    expect(body.max_tokens).toBe(4096);
    expect(typeof body.system).toBe('string');
    expect(body.messages[0]!.content[0]).toEqual({
      type: 'image',
      source: { type: 'base64', media_type: 'image/jpeg', data: image.data.toString('base64') },
    });
    expect(body.messages[0]!.content[1]).toMatchObject({ type: 'text' });
    expect(body.tools).toEqual([
      { name: 'Invoice_basic', description: expect.any(String), input_schema: invoicePattern.schema },
    ]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'Invoice_basic' });

    expect(result.output).toEqual(OUTPUT);
    const raw = result.raw as { usage: { input_tokens: number; output_tokens: number } };
    expect(result.usage).toEqual({
      input_tokens: raw.usage.input_tokens,
      output_tokens: raw.usage.output_tokens,
      image_tokens: 1296,
      estimated: false,
    });
    expect(result.rateLimit?.requests).toMatchObject({ limit: 500, remaining: expect.any(Number) });
    expect(result.rateLimit?.requests?.resetMs).toBeGreaterThan(0);
  });

  it('keeps images at Anthropic’s native size and meters them by 28-px patches', () => {
    expect(provider.sizeProfile().name).toBe('anthropic');
    expect(provider.estimateImageTokens(1000, 1000)).toBe(1296);
  });

  it('asks yes/no in a few tokens', async () => {
    const answer = await provider.ask!(
      { image, question: 'Is this a receipt?', model: 'claude-haiku-4-5' },
      signal(),
    );
    const body = sim.requests.at(-1)!.json as MessagesBody;
    expect(body.max_tokens).toBe(5);
    expect(body.tools).toBeUndefined();
    expect(answer).toMatchObject({ answer: true, model: 'claude-haiku-4-5', usage: { image_tokens: 1296 } });
  });
});

describe('anthropic provider: errors', () => {
  const run = (p = provider) =>
    p.extract({ image, pattern: invoicePattern, model: 'claude-sonnet-4-5' }, signal());

  it('needs ANTHROPIC_API_KEY for the real API', () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    expect(() => new AnthropicProvider().checkCredentials()).toThrow(
      expect.objectContaining({
        code: 'MISSING_API_KEY',
        message: expect.stringContaining('ANTHROPIC_API_KEY'),
      }),
    );
  });

  it('401 → AUTH_FAILED', async () => {
    const strict = await startSimulator({ apiKeys: ['another-key-123456'] });
    try {
      const p = new AnthropicProvider({ baseUrl: strict.baseUrls.anthropic, apiKey: KEY });
      const error = await failure(run(p));
      expect(error).toMatchObject({ code: 'AUTH_FAILED', status: 401 });
      expect(error.message).toBe('anthropic: HTTP 401 authentication_error: invalid x-api-key');
      await p.close();
    } finally {
      await strict.close();
    }
  });

  it('529 overloaded_error → PROVIDER_UNAVAILABLE; 400 → BAD_REQUEST; malformed → BAD_RESPONSE; reset → CONNECTION_FAILED', async () => {
    sim.inject('529');
    const overloaded = await failure(run());
    expect(overloaded).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', status: 529, retryable: true });
    expect(overloaded.message).toBe('anthropic: HTTP 529 overloaded_error: Overloaded');
    sim.inject('bad-request');
    expect(await failure(run())).toMatchObject({ code: 'BAD_REQUEST', status: 400, retryable: false });
    sim.inject('malformed');
    expect(await failure(run())).toMatchObject({ code: 'BAD_RESPONSE' });
    sim.inject('reset');
    expect(await failure(run())).toMatchObject({ code: 'CONNECTION_FAILED' });
  });

  it('429 rate_limit_error → RATE_LIMITED with retryAfterMs from Retry-After seconds; low credit → QUOTA_EXCEEDED', async () => {
    const limited = await startSimulator({ rpm: 1, timeScale: 0.05 });
    try {
      const p = new AnthropicProvider({ baseUrl: limited.baseUrls.anthropic, apiKey: KEY });
      await run(p);
      const error = await failure(run(p));
      expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
      // 3 s of real window left → Retry-After: 3 (whole seconds).
      expect(error.retryAfterMs).toBe(3000);
      expect(error.message).toMatch(
        /^anthropic: HTTP 429 rate_limit_error: This request would exceed the rate limit/,
      );
      await p.close();
    } finally {
      await limited.close();
    }
    const broke = await startSimulator({ quotaExceeded: true });
    try {
      const p = new AnthropicProvider({ baseUrl: broke.baseUrls.anthropic, apiKey: KEY });
      expect(await failure(run(p))).toMatchObject({ code: 'QUOTA_EXCEEDED', status: 400, retryable: false });
      await p.close();
    } finally {
      await broke.close();
    }
  });

  it('the simulator refuses a request without anthropic-version, as the API does', async () => {
    const response = await fetch(`${sim.baseUrls.anthropic}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    });
  });
});
