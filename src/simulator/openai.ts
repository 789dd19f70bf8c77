/**
 * OpenAI's wire format: `POST /v1/chat/completions` with Bearer auth, strict request
 * validation (unknown arguments, non-strict schemas and reasoning-model parameters are
 * refused as the real API does), `x-ratelimit-*` headers with Go durations, 429 bodies
 * with `type: requests|tokens`, `insufficient_quota`, real usage by the tile/patch formulas.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { estimateTextTokens, openaiImageTokens } from '../providers/tokens.js';
import { askAnswerText, BadImageError, fetchImage, readImage } from './answers.js';
import { type Context, describeIssue, type Family, goDuration, type Parsed, type Reply } from './core.js';
import type { LimitVerdict } from './limits.js';
import type { SimImage } from './types.js';

const imagePart = z
  .object({
    type: z.literal('image_url'),
    image_url: z
      .object({ url: z.string().min(1), detail: z.enum(['low', 'high', 'auto']).optional() })
      .strict(),
  })
  .strict();
const textPart = z.object({ type: z.literal('text'), text: z.string() }).strict();
const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant']),
    content: z.union([z.string(), z.array(z.union([textPart, imagePart])).min(1)]),
  })
  .strict();

const requestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1),
    response_format: z
      .union([
        z
          .object({
            type: z.literal('json_schema'),
            json_schema: z
              .object({
                name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must match ^[a-zA-Z0-9_-]{1,64}$'),
                description: z.string().optional(),
                strict: z.boolean().optional(),
                schema: z.record(z.string(), z.unknown()),
              })
              .strict(),
          })
          .strict(),
        z.object({ type: z.enum(['text', 'json_object']) }).strict(),
      ])
      .optional(),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.number().int().positive().optional(),
    max_completion_tokens: z.number().int().positive().optional(),
    reasoning_effort: z.enum(['minimal', 'low', 'medium', 'high']).optional(),
    seed: z.number().int().optional(),
  })
  .strict();

type ChatRequest = z.infer<typeof requestSchema>;

function errorReply(
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): Reply {
  return { status, body: { error: { message, type, param, code } } };
}

/** What strict structured outputs demand of every object: all keys required, nothing else allowed. */
function strictnessProblem(node: unknown, path: string): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const schema = node as Record<string, unknown>;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('object')) {
    if (schema.additionalProperties !== false)
      return `In context=(${path}), 'additionalProperties' is required to be supplied and to be false.`;
    const keys = Object.keys((schema.properties as Record<string, unknown>) ?? {});
    const required = Array.isArray(schema.required) ? schema.required : [];
    const missing = keys.find((key) => !required.includes(key));
    if (missing !== undefined)
      return `In context=(${path}), 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`;
    for (const key of keys) {
      const problem = strictnessProblem(
        (schema.properties as Record<string, unknown>)[key],
        `${path}'properties', '${key}', `,
      );
      if (problem) return problem;
    }
  }
  if (schema.items) return strictnessProblem(schema.items, `${path}'items', `);
  return undefined;
}

function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

/** OpenAI's documented byte limits (vision guide): 20 MB per image, 50 MB per request. */
export const OPENAI_MAX_IMAGE_BYTES = 20_000_000;
export const OPENAI_MAX_REQUEST_BYTES = 50_000_000;

/**
 * The API's 400 for a request over its byte limits, in OpenAI's error shape
 * (`invalid_request_error`, code `image_too_large` for an image, `request_too_large` for
 * the body): a deterministic refusal, the same request fails the same way. The limits are
 * OpenAI's unless `openaiLimits` sets an OpenAI-compatible server's smaller ones.
 */
function byteLimitProblem(ctx: Context, images: Array<{ image_url: { url: string } }>): Reply | undefined {
  const limits = ctx.core.options.openaiLimits;
  const maxRequest = limits?.maxRequestBytes ?? OPENAI_MAX_REQUEST_BYTES;
  const maxImage = limits?.maxImageBytes ?? OPENAI_MAX_IMAGE_BYTES;
  if (ctx.body.length > maxRequest)
    return errorReply(
      400,
      `Request too large: the request body is ${ctx.body.length} bytes, over the maximum of ${maxRequest} bytes.`,
      'invalid_request_error',
      'request_too_large',
    );
  for (const [index, part] of images.entries()) {
    const url = part.image_url.url;
    const comma = url.indexOf(',');
    if (!url.startsWith('data:') || comma < 0) continue;
    // Decoded size from the base64 length, without decoding: 3 bytes per 4 characters.
    const data = url.slice(comma + 1);
    const bytes = Math.floor((data.length * 3) / 4) - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);
    if (bytes > maxImage)
      return errorReply(
        400,
        `Invalid image at messages[0].content[${index}]: the image is ${bytes} bytes, over the maximum of ${maxImage} bytes per image.`,
        'invalid_request_error',
        'image_too_large',
        'messages',
      );
  }
  return undefined;
}

/** Parameter checks the real API makes before anything else. */
function parameterProblem(request: ChatRequest): Reply | undefined {
  if (isReasoningModel(request.model)) {
    if (request.max_tokens !== undefined)
      return errorReply(
        400,
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        'invalid_request_error',
        'unsupported_parameter',
        'max_tokens',
      );
    if (request.temperature !== undefined && request.temperature !== 1)
      return errorReply(
        400,
        `Unsupported value: 'temperature' does not support ${request.temperature} with this model. Only the default (1) value is supported.`,
        'invalid_request_error',
        'unsupported_value',
        'temperature',
      );
  }
  const format = request.response_format;
  if (format?.type === 'json_schema' && format.json_schema.strict) {
    const problem = strictnessProblem(format.json_schema.schema, '');
    if (problem)
      return errorReply(
        400,
        `Invalid schema for response_format '${format.json_schema.name}': ${problem}`,
        'invalid_request_error',
        'invalid_json_schema',
        'response_format',
      );
  }
  return undefined;
}

async function loadImage(url: string, signal: AbortSignal): Promise<SimImage> {
  const data = /^data:image\/[\w.+-]+;base64,(.*)$/s.exec(url);
  if (data) return readImage(Buffer.from(data[1]!, 'base64'));
  if (/^https?:\/\//.test(url)) return fetchImage(url, signal);
  throw new BadImageError(
    `Invalid image URL: ${url.slice(0, 40)}. Expected a base64-encoded data URL or an http(s) URL.`,
  );
}

function maskKey(key: string): string {
  return key.length <= 8
    ? '*'.repeat(key.length)
    : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

let completions = 0;

export const openaiFamily: Family = {
  api: 'openai',

  route(method, pathname) {
    return method === 'POST' && pathname === '/v1/chat/completions'
      ? 'openai POST /v1/chat/completions'
      : undefined;
  },

  apiKey(req: IncomingMessage) {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return match?.[1];
  },

  unauthorized(key) {
    if (key === undefined)
      return errorReply(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        null,
      );
    return errorReply(
      401,
      `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      'invalid_api_key',
    );
  },

  error(kind, message) {
    switch (kind) {
      case 'bad-request':
        return errorReply(400, message, 'invalid_request_error', null);
      case 'not-found':
        return errorReply(404, message, 'invalid_request_error', 'unknown_url');
      case 'quota':
        return errorReply(
          429,
          'You exceeded your current quota, please check your plan and billing details.',
          'insufficient_quota',
          'insufficient_quota',
        );
      case 'overloaded':
        return errorReply(
          503,
          'The engine is currently overloaded, please try again later.',
          'server_error',
          null,
        );
      default:
        return errorReply(
          500,
          'The server had an error while processing your request. Sorry about that!',
          'server_error',
          null,
        );
    }
  },

  rateHeaders(verdict: LimitVerdict) {
    const headers: Record<string, string> = {};
    for (const kind of ['requests', 'tokens'] as const) {
      const state = verdict[kind];
      if (!state) continue;
      headers[`x-ratelimit-limit-${kind}`] = String(state.limit);
      headers[`x-ratelimit-remaining-${kind}`] = String(state.remaining);
      headers[`x-ratelimit-reset-${kind}`] = goDuration(state.resetMs);
    }
    return headers;
  },

  rateLimited(verdict) {
    const kind = verdict.limited ?? 'requests';
    const wait = verdict.retryAfterMs ?? 0;
    const state = verdict[kind];
    const reply = errorReply(
      429,
      `Rate limit reached for default-model in organization org-simulator on ${kind} per min (RPM/TPM): Limit ${state?.limit ?? 0}, Used ${(state?.limit ?? 0) - (state?.remaining ?? 0)}. Please try again in ${goDuration(wait)}.`,
      kind,
      'rate_limit_exceeded',
    );
    reply.headers = {
      'retry-after-ms': String(Math.ceil(wait)),
      'retry-after': String(Math.max(1, Math.ceil(wait / 1000))),
    };
    return reply;
  },

  async parse(ctx: Context): Promise<Parsed | Reply> {
    if (ctx.json === undefined)
      return errorReply(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
        'invalid_request_error',
        null,
      );
    const parsed = requestSchema.safeParse(ctx.json);
    if (!parsed.success) {
      const issue = describeIssue(parsed.error);
      const unknown = parsed.error.issues.find((i) => i.code === 'unrecognized_keys');
      if (unknown && 'keys' in unknown && unknown.path.length === 0)
        return errorReply(
          400,
          `Unrecognized request argument supplied: ${(unknown.keys as string[]).join(', ')}`,
          'invalid_request_error',
          null,
        );
      return errorReply(
        400,
        `Invalid value for '${issue.path}': ${issue.message}`,
        'invalid_request_error',
        null,
        issue.path,
      );
    }
    const request = parsed.data;
    const problem = parameterProblem(request);
    if (problem) return problem;
    const parts = request.messages.flatMap((m) =>
      typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content,
    );
    const images = parts.filter((p) => p.type === 'image_url');
    const prompt = parts.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
    // OpenAI takes up to 500 images in one request (the pages of a document, say).
    if (images.length === 0 || images.length > 500)
      return errorReply(
        400,
        `The simulator answers requests with 1 to 500 images (got ${images.length}).`,
        'invalid_request_error',
        null,
      );
    const tooLarge = byteLimitProblem(ctx, images);
    if (tooLarge) return tooLarge;
    const { url, detail } = images[0]!.image_url;
    const loaded: SimImage[] = [];
    for (const part of images) {
      try {
        loaded.push(await loadImage(part.image_url.url, ctx.core.signal));
      } catch (error) {
        const message = error instanceof BadImageError ? error.message : String(error);
        return errorReply(
          400,
          message,
          'invalid_request_error',
          part.image_url.url.startsWith('data:') ? 'invalid_image_format' : 'invalid_image_url',
        );
      }
    }
    const [image, ...pages] = loaded as [SimImage, ...SimImage[]];
    const format = request.response_format;
    const schema = format?.type === 'json_schema' ? format.json_schema.schema : undefined;
    const imageTokens = loaded.reduce(
      (sum, one) => sum + openaiImageTokens(one.width, one.height, request.model, detail ?? 'auto'),
      0,
    );
    const inputTokens = imageTokens + estimateTextTokens(prompt + (schema ? JSON.stringify(schema) : '')) + 7;
    return {
      call: {
        api: 'openai',
        kind: schema ? 'extract' : 'ask',
        model: request.model,
        image,
        ...(pages.length > 0 ? { pages } : {}),
        ...(url.startsWith('data:') ? {} : { imageUrl: url }),
        ...(schema ? { schema } : {}),
        ...(detail ? { detail } : {}),
        prompt,
      },
      inputTokens,
      imageTokens,
      reply(answer) {
        const content = schema ? JSON.stringify(answer) : askAnswerText(answer);
        const outputTokens = estimateTextTokens(content);
        completions++;
        return {
          status: 200,
          headers: {
            'openai-processing-ms': '1',
            'openai-version': '2020-10-01',
            'x-request-id': `req_sim${completions}`,
          },
          outputTokens,
          body: {
            id: `chatcmpl-sim${completions}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: request.model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content, refusal: null, annotations: [] },
                logprobs: null,
                finish_reason: 'stop',
              },
            ],
            usage: {
              prompt_tokens: inputTokens,
              completion_tokens: outputTokens,
              total_tokens: inputTokens + outputTokens,
              prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
              completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
            },
            service_tier: 'default',
            system_fingerprint: 'fp_simulator',
          },
        };
      },
    };
  },
};
