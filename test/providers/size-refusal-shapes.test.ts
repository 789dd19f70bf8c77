/**
 * A provider's refusal for size is recognised by kind, whatever shape it comes in (issue 11,
 * provider side): OpenAI codes and its "below 20 MB" 400, Anthropic's, Gemini's (its
 * OpenAI-compatible endpoint answers a list), vLLM's and gateways'. Each one is
 * IMAGE_TOO_LARGE and gets the one retry at half the long edge; other 400s do not.
 * Real OpenAI provider against an OpenAI-compatible server on loopback; a real corpus scan.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isRetryable } from '../../src/flow/retry-rules.js';
import { isThrottle } from '../../src/flow/throttle.js';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { httpStatusError } from '../../src/providers/http-errors.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { TestServer } from '../support/http.js';
import { corpus } from '../support/images.js';
import { startCompatibleServer } from '../support/openai-compatible.js';

const pattern = parsePattern(
  {
    name: 'simple',
    format: 'json',
    instructions: 'Vendor and total.',
    json_schema: { vendor_name: 'string', total: 'number' },
  },
  'size-shapes',
);
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
});

const openai = (message: string, code: string | null, type = 'invalid_request_error') => ({
  error: { message, type, param: null, code },
});

/** [name, status, body]: refusals for size as the providers and servers write them. */
const SIZE_REFUSALS: Array<[string, number, unknown]> = [
  ['openai invalid_image', 400, openai('Invalid image.', 'invalid_image')],
  [
    'openai image_parse_error',
    400,
    openai('You uploaded an unsupported image. Please make sure your image is valid.', 'image_parse_error'),
  ],
  [
    'openai "below 20 MB" (sanitizer_server_error)',
    400,
    openai(
      "You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
      'sanitizer_server_error',
    ),
  ],
  [
    'openai context_length_exceeded',
    400,
    openai(
      "This model's maximum context length is 8192 tokens. However, you requested 9001 tokens.",
      'context_length_exceeded',
    ),
  ],
  [
    'anthropic 5 MB',
    400,
    {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message:
          'messages.0.content.0.image.source.base64: image exceeds 5 MB maximum: 5316148 bytes > 5242880 bytes',
      },
    },
  ],
  [
    'anthropic prompt too long',
    400,
    {
      type: 'error',
      error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' },
    },
  ],
  [
    'anthropic request_too_large (413)',
    413,
    {
      type: 'error',
      error: { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' },
    },
  ],
  [
    'gemini payload (list body)',
    400,
    [
      {
        error: {
          code: 400,
          message: 'Request payload size exceeds the limit: 20971520 bytes.',
          status: 'INVALID_ARGUMENT',
        },
      },
    ],
  ],
  [
    'gemini token count',
    400,
    {
      error: {
        code: 400,
        message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
        status: 'INVALID_ARGUMENT',
      },
    },
  ],
  [
    'vllm image size exceeds',
    400,
    {
      object: 'error',
      message: 'image size (8000, 6000) exceeds the maximum allowed (4096, 4096)',
      type: 'BadRequestError',
      code: 400,
    },
  ],
  [
    'vllm input image too large',
    400,
    { error: { message: 'Input image too large', type: 'BadRequestError', code: 400 } },
  ],
  [
    'vllm prompt tokens',
    400,
    {
      error: {
        message: 'The number of tokens in the prompt exceeds the maximum (32768)',
        type: 'BadRequestError',
      },
    },
  ],
  [
    'vllm decoder prompt',
    400,
    {
      error: {
        message: 'The decoder prompt (length 40123) is longer than the maximum model length of 32768.',
        type: 'BadRequestError',
      },
    },
  ],
  ['gateway 422 too large', 422, { detail: 'x', error: 'Payload Too Large' }],
];

/** 400s that are not about size: never IMAGE_TOO_LARGE. */
const OTHER_400S: Array<[string, unknown]> = [
  ['bad schema', openai("Invalid schema for response_format 'x'", 'invalid_json_schema')],
  ['unknown model', openai('The model `gpt-9` does not exist', 'model_not_found')],
  [
    'image format',
    openai(
      "You uploaded an unsupported image. Please make sure your image has of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
      'invalid_image_format',
    ),
  ],
];

describe('size refusals by kind', () => {
  it.each(SIZE_REFUSALS)('%s → IMAGE_TOO_LARGE', (_name, status, body) => {
    expect(httpStatusError('p', status, {}, body).code).toBe('IMAGE_TOO_LARGE');
  });
  it.each(OTHER_400S)('%s → not a size refusal', (_name, body) => {
    expect(httpStatusError('p', 400, {}, body).code).not.toBe('IMAGE_TOO_LARGE');
  });

  it.each(SIZE_REFUSALS)(
    '%s: the pipeline sends the image once more at half its long edge',
    async (_name, status, body) => {
      const server = await startCompatibleServer((_call, n) =>
        n === 1 ? { status, errorBody: body } : '{"vendor_name":"YOUR COMPANY","total":1699.48}',
      );
      servers.push(server);
      const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
      const pipeline = await createPipeline({
        pattern,
        provider,
        model: 'gpt-4.1',
        profile: 'none',
        cache: { spec: 'off' },
        retry: { baseDelayMs: 1, maxDelayMs: 2 },
      });
      const record = await pipeline.process(await readFile(corpus('invoice1.jpg')), {
        label: 'invoice1.jpg',
      });
      await pipeline.close();
      await provider.close();
      expect(server.calls).toHaveLength(2);
      expect(record).toMatchObject({ status: 'ok', attempts: 2, output: { total: 1699.48 } });
      expect(record.cascade.resized).toContain('as too large');
      expect(record.profile).toContain('after-size-refusal');
    },
  );
});

describe("OpenAI's 429 for a request alone over the tokens-per-minute budget", () => {
  const tpm = (message: string) => openai(message, 'rate_limit_exceeded', 'tokens');
  it('"Request too large … Limit N, Requested M" is IMAGE_TOO_LARGE: no wait, never retried, not a throttle', () => {
    const error = httpStatusError(
      'openai',
      429,
      { 'retry-after': '20' },
      tpm(
        'Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested 36278. The input or output tokens must be reduced in order to run successfully.',
      ),
    );
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.retryAfterMs).toBeUndefined();
    expect(isThrottle(error)).toBe(false);
    expect(isRetryable(error)).toBe(false);
    expect(error.message).toContain(
      "needs 36278 tokens, over the account's limit of 30000 tokens per minute",
    );
  });
  it('"Rate limit reached … Used U, Requested M. Please try again in …" stays a rate limit', () => {
    const error = httpStatusError(
      'openai',
      429,
      {},
      tpm(
        'Rate limit reached for gpt-4o-mini in organization org-x on tokens per min (TPM): Limit 100000, Used 99769, Requested 872. Please try again in 388ms.',
      ),
    );
    expect(error.code).toBe('RATE_LIMITED');
    expect(isThrottle(error)).toBe(true);
  });
});
