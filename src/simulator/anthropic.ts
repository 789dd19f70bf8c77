/**
 * Anthropic's wire format: `POST /v1/messages` with `x-api-key` and a required
 * `anthropic-version` header, base64 image blocks, tools with `input_schema` and
 * `tool_choice`; `anthropic-ratelimit-*` headers with RFC 3339 resets, 429
 * `rate_limit_error` with `retry-after`, 529 `overloaded_error`, the credit-balance 400.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { anthropicImageTokens, estimateTextTokens } from '../providers/tokens.js';
import { askAnswerText, BadImageError, readImage } from './answers.js';
import {
  type Context,
  describeIssue,
  type Family,
  type Parsed,
  type Reply,
  retryAfterSeconds,
} from './core.js';
import type { LimitVerdict } from './limits.js';
import type { SimImage } from './types.js';

const ANTHROPIC_MAX_BASE64 = 5 * 1024 * 1024;
const ANTHROPIC_MAX_EDGE = 8000;
/** Past 20 images in one request each must be within 2000×2000 px (vision guide, "General limits"). */
const ANTHROPIC_MAX_EDGE_MANY = 2000;
/** Images per API request for 200k-context models (vision guide, "General limits"). */
const ANTHROPIC_MAX_IMAGES = 100;

const textBlock = z.object({ type: z.literal('text'), text: z.string() }).strict();
const imageBlock = z
  .object({
    type: z.literal('image'),
    source: z.union([
      z
        .object({
          type: z.literal('base64'),
          media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
          data: z.string().min(1),
        })
        .strict(),
      z.object({ type: z.literal('url'), url: z.string().url() }).strict(),
    ]),
  })
  .strict();

const requestSchema = z
  .object({
    model: z.string().min(1),
    max_tokens: z.number().int().positive(),
    system: z.union([z.string(), z.array(textBlock)]).optional(),
    messages: z
      .array(
        z
          .object({
            role: z.enum(['user', 'assistant']),
            content: z.union([z.string(), z.array(z.union([imageBlock, textBlock])).min(1)]),
          })
          .strict(),
      )
      .min(1),
    tools: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'String should match pattern ^[a-zA-Z0-9_-]{1,64}$'),
            description: z.string().optional(),
            input_schema: z.looseObject({ type: z.literal('object') }),
          })
          .strict(),
      )
      .optional(),
    tool_choice: z
      .union([
        z.object({ type: z.literal('tool'), name: z.string() }).strict(),
        z.object({ type: z.enum(['auto', 'any', 'none']) }).strict(),
      ])
      .optional(),
    temperature: z.number().min(0).max(1).optional(),
  })
  .strict();

function errorReply(status: number, type: string, message: string): Reply {
  return { status, body: { type: 'error', error: { type, message }, request_id: 'req_simulator' } };
}

let messages = 0;

export const anthropicFamily: Family = {
  api: 'anthropic',

  route(method, pathname) {
    return method === 'POST' && pathname === '/v1/messages' ? 'anthropic POST /v1/messages' : undefined;
  },

  apiKey(req: IncomingMessage) {
    const key = req.headers['x-api-key'];
    return typeof key === 'string' && key !== '' ? key : undefined;
  },

  unauthorized(key) {
    return errorReply(
      401,
      'authentication_error',
      key === undefined ? 'x-api-key header is required' : 'invalid x-api-key',
    );
  },

  error(kind, message) {
    switch (kind) {
      case 'bad-request':
        return errorReply(400, 'invalid_request_error', message);
      case 'not-found':
        return errorReply(404, 'not_found_error', message);
      case 'quota':
        return errorReply(
          400,
          'invalid_request_error',
          'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
        );
      case 'overloaded':
        return errorReply(529, 'overloaded_error', 'Overloaded');
      default:
        return errorReply(500, 'api_error', 'Internal server error');
    }
  },

  rateHeaders(verdict: LimitVerdict) {
    const headers: Record<string, string> = {};
    const families: Array<[string, LimitVerdict['requests']]> = [
      ['requests', verdict.requests],
      ['input-tokens', verdict.tokens],
      ['tokens', verdict.tokens],
    ];
    for (const [family, state] of families) {
      if (!state) continue;
      headers[`anthropic-ratelimit-${family}-limit`] = String(state.limit);
      headers[`anthropic-ratelimit-${family}-remaining`] = String(state.remaining);
      headers[`anthropic-ratelimit-${family}-reset`] = new Date(Date.now() + state.resetMs).toISOString();
    }
    return headers;
  },

  rateLimited(verdict) {
    const kind = verdict.limited === 'tokens' ? 'input tokens' : 'requests';
    const reply = errorReply(
      429,
      'rate_limit_error',
      `This request would exceed the rate limit for your organization of ${verdict[verdict.limited ?? 'requests']?.limit ?? 0} ${kind} per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.`,
    );
    reply.headers = { 'retry-after': retryAfterSeconds(verdict.retryAfterMs ?? 0) };
    return reply;
  },

  async parse(ctx: Context): Promise<Parsed | Reply> {
    if (ctx.req.headers['anthropic-version'] === undefined)
      return errorReply(400, 'invalid_request_error', 'anthropic-version: header is required');
    if (ctx.json === undefined)
      return errorReply(400, 'invalid_request_error', 'Request body is not valid JSON');
    const parsed = requestSchema.safeParse(ctx.json);
    if (!parsed.success) {
      const issue = describeIssue(parsed.error);
      return errorReply(400, 'invalid_request_error', `${issue.path}: ${issue.message}`);
    }
    const request = parsed.data;
    const choice = request.tool_choice;
    const tool =
      choice?.type === 'tool' ? request.tools?.find((t) => t.name === choice.name) : request.tools?.[0];
    if (choice?.type === 'tool' && tool === undefined)
      return errorReply(400, 'invalid_request_error', `tool_choice: tool "${choice.name}" is not in tools`);
    const blocks = request.messages.flatMap((m) =>
      typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content,
    );
    const images = blocks.filter((b) => b.type === 'image');
    // The API takes up to 100 images in one request (the pages of a document, say).
    if (images.length === 0 || images.length > ANTHROPIC_MAX_IMAGES)
      return errorReply(
        400,
        'invalid_request_error',
        `the simulator answers messages with 1 to ${ANTHROPIC_MAX_IMAGES} images (got ${images.length})`,
      );
    const loaded: SimImage[] = [];
    for (const [index, block] of images.entries()) {
      const source = block.source;
      if (source.type !== 'base64')
        return errorReply(400, 'invalid_request_error', 'the simulator reads base64 images only');
      // The API's hard limits, with its own words: 5 MB of base64 text, 8000 px per edge
      // (2000 px once a request holds more than 20 images).
      if (source.data.length > ANTHROPIC_MAX_BASE64)
        return errorReply(
          400,
          'invalid_request_error',
          `messages.0.content.${index}.image.source.base64: image exceeds 5 MB maximum: ${source.data.length} bytes > ${ANTHROPIC_MAX_BASE64} bytes`,
        );
      let one: SimImage;
      try {
        one = await readImage(Buffer.from(source.data, 'base64'));
      } catch (error) {
        return errorReply(
          400,
          'invalid_request_error',
          `messages.0.content.${index}.source: ${error instanceof BadImageError ? error.message : String(error)}`,
        );
      }
      const maxEdge = images.length > 20 ? ANTHROPIC_MAX_EDGE_MANY : ANTHROPIC_MAX_EDGE;
      if (Math.max(one.width, one.height) > maxEdge)
        return errorReply(
          400,
          'invalid_request_error',
          `messages.0.content.${index}.image.source.base64.data: At least one of the image dimensions exceed max allowed size: ${maxEdge} pixels`,
        );
      loaded.push(one);
    }
    const [image, ...pages] = loaded as [SimImage, ...SimImage[]];
    const system =
      typeof request.system === 'string'
        ? request.system
        : (request.system ?? []).map((b) => b.text).join('\n');
    const prompt = [system, ...blocks.map((b) => (b.type === 'text' ? b.text : ''))].join('\n');
    const imageTokens = loaded.reduce((sum, one) => sum + anthropicImageTokens(one.width, one.height), 0);
    // Tool definitions are billed as input, plus the tool-use system prompt (~350 tokens).
    const inputTokens =
      imageTokens +
      estimateTextTokens(prompt) +
      (tool ? estimateTextTokens(JSON.stringify(request.tools)) + 346 : 0) +
      8;
    const extract = tool !== undefined && choice?.type !== 'none';
    return {
      call: {
        api: 'anthropic',
        kind: extract ? 'extract' : 'ask',
        model: request.model,
        image,
        ...(pages.length > 0 ? { pages } : {}),
        ...(extract ? { schema: tool.input_schema } : {}),
        prompt,
      },
      inputTokens,
      imageTokens,
      reply(answer) {
        messages++;
        const content = extract
          ? [{ type: 'tool_use', id: `toolu_sim${messages}`, name: tool.name, input: answer }]
          : [{ type: 'text', text: askAnswerText(answer) }];
        const outputTokens = estimateTextTokens(JSON.stringify(content)) + 5;
        return {
          status: 200,
          headers: { 'request-id': `req_sim${messages}` },
          outputTokens,
          body: {
            id: `msg_sim${messages}`,
            type: 'message',
            role: 'assistant',
            model: request.model,
            content,
            stop_reason: extract ? 'tool_use' : 'end_turn',
            stop_sequence: null,
            usage: {
              input_tokens: inputTokens,
              output_tokens: outputTokens,
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: 0,
            },
          },
        };
      },
    };
  },
};
