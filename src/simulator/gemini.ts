/**
 * Gemini's wire format: `POST /v1beta/models/{model}:generateContent` with
 * `x-goog-api-key` (or `?key=`), `inline_data` parts and a `responseSchema` in the
 * OpenAPI subset (unknown schema keywords such as `additionalProperties` are refused,
 * as the real API does). Errors are google.rpc Status bodies; a wrong key is a 400
 * `API_KEY_INVALID`, a missing one a 403; 429 carries `RetryInfo`.
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { estimateTextTokens, geminiImageTokens } from '../providers/tokens.js';
import { askAnswerText, BadImageError, fromGeminiSchema, readImage } from './answers.js';
import { type Context, describeIssue, type Family, type Parsed, type Reply } from './core.js';
import type { SimImage } from './types.js';

const GEMINI_MAX_REQUEST_BYTES = 20 * 1024 * 1024;
/** Images per prompt for Gemini 2.5 Pro and Flash (Vertex AI "Image understanding"). */
const GEMINI_MAX_IMAGES = 3000;

type GeminiSchemaNode = {
  type?: 'STRING' | 'NUMBER' | 'INTEGER' | 'BOOLEAN' | 'ARRAY' | 'OBJECT';
  format?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  enum?: string[];
  properties?: Record<string, GeminiSchemaNode>;
  required?: string[];
  propertyOrdering?: string[];
  items?: GeminiSchemaNode;
  anyOf?: GeminiSchemaNode[];
  minItems?: string | number;
  maxItems?: string | number;
  minimum?: number;
  maximum?: number;
  minLength?: string | number;
  maxLength?: string | number;
  pattern?: string;
};

const schemaNode: z.ZodType<GeminiSchemaNode> = z.lazy(() =>
  z
    .object({
      type: z.enum(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT']).optional(),
      format: z.string().optional(),
      title: z.string().optional(),
      description: z.string().optional(),
      nullable: z.boolean().optional(),
      enum: z.array(z.string()).optional(),
      properties: z.record(z.string(), schemaNode).optional(),
      required: z.array(z.string()).optional(),
      propertyOrdering: z.array(z.string()).optional(),
      items: schemaNode.optional(),
      anyOf: z.array(schemaNode).optional(),
      minItems: z.union([z.string(), z.number()]).optional(),
      maxItems: z.union([z.string(), z.number()]).optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
      minLength: z.union([z.string(), z.number()]).optional(),
      maxLength: z.union([z.string(), z.number()]).optional(),
      pattern: z.string().optional(),
    })
    .strict(),
);

const inlineData = z.object({ mime_type: z.string(), data: z.string().min(1) }).strict();
const inlineDataCamel = z.object({ mimeType: z.string(), data: z.string().min(1) }).strict();
const part = z.union([
  z.object({ text: z.string() }).strict(),
  z.object({ inline_data: inlineData }).strict(),
  z.object({ inlineData: inlineDataCamel }).strict(),
]);

const generationConfig = z
  .object({
    responseMimeType: z.string().optional(),
    responseSchema: schemaNode.optional(),
    temperature: z.number().min(0).max(2).optional(),
    maxOutputTokens: z.number().int().positive().optional(),
    thinkingConfig: z.object({ thinkingBudget: z.number().int().optional() }).strict().optional(),
  })
  .strict();

const requestSchema = z
  .object({
    contents: z
      .array(z.object({ role: z.enum(['user', 'model']).optional(), parts: z.array(part).min(1) }).strict())
      .min(1),
    systemInstruction: z
      .object({ parts: z.array(z.object({ text: z.string() }).strict()) })
      .strict()
      .optional(),
    generationConfig: generationConfig.optional(),
  })
  .strict();

function status(code: number, statusName: string, message: string, details?: unknown[]): Reply {
  return {
    status: code,
    body: { error: { code, message, status: statusName, ...(details ? { details } : {}) } },
  };
}

let responses = 0;

export const geminiFamily: Family = {
  api: 'gemini',

  route(method, pathname) {
    return method === 'POST' && /^\/v1beta\/models\/[^/:]+:generateContent$/.test(pathname)
      ? 'gemini POST /v1beta/models/{model}:generateContent'
      : undefined;
  },

  apiKey(req: IncomingMessage, url: URL) {
    const header = req.headers['x-goog-api-key'];
    if (typeof header === 'string' && header !== '') return header;
    return url.searchParams.get('key') ?? undefined;
  },

  unauthorized(key) {
    if (key === undefined)
      return status(
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    return status(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
      },
    ]);
  },

  error(kind, message) {
    switch (kind) {
      case 'bad-request':
        return status(400, 'INVALID_ARGUMENT', message);
      case 'not-found':
        return status(404, 'NOT_FOUND', message);
      case 'quota':
        return status(
          429,
          'RESOURCE_EXHAUSTED',
          'You exceeded your current quota, please check your plan and billing details.',
          [
            {
              '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
              violations: [
                {
                  quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests',
                  quotaId: 'GenerateRequestsPerDayPerProjectPerModel',
                },
              ],
            },
          ],
        );
      case 'overloaded':
        return status(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      default:
        return status(
          500,
          'INTERNAL',
          'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
        );
    }
  },

  // Gemini sends no budget headers; only the 429 body says how long to wait.
  rateHeaders() {
    return {};
  },

  rateLimited(verdict) {
    const seconds = ((verdict.retryAfterMs ?? 0) / 1000).toFixed(3).replace(/\.?0+$/, '');
    return status(
      429,
      'RESOURCE_EXHAUSTED',
      'You exceeded your current quota, please check your plan and billing details.',
      [
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: `generativelanguage.googleapis.com/generate_content_${verdict.limited === 'tokens' ? 'input_token_count' : 'requests'}`,
              quotaId: `GenerateContent${verdict.limited === 'tokens' ? 'InputTokens' : 'Requests'}PerMinutePerProjectPerModel`,
            },
          ],
        },
        {
          '@type': 'type.googleapis.com/google.rpc.RetryInfo',
          retryDelay: `${seconds === '' ? '0' : seconds}s`,
        },
      ],
    );
  },

  async parse(ctx: Context): Promise<Parsed | Reply> {
    // Inline data: the whole request must stay within 20 MB.
    if (ctx.body.length > GEMINI_MAX_REQUEST_BYTES)
      return status(
        400,
        'INVALID_ARGUMENT',
        `Request payload size exceeds the limit: ${GEMINI_MAX_REQUEST_BYTES} bytes.`,
      );
    if (ctx.json === undefined) return status(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    const parsed = requestSchema.safeParse(ctx.json);
    if (!parsed.success) {
      const issue = describeIssue(parsed.error);
      const unknown = parsed.error.issues.find((i) => i.code === 'unrecognized_keys');
      if (unknown && 'keys' in unknown)
        return status(
          400,
          'INVALID_ARGUMENT',
          `Invalid JSON payload received. Unknown name "${(unknown.keys as string[])[0]}" at '${unknown.path.map(String).join('.')}': Cannot find field.`,
        );
      return status(400, 'INVALID_ARGUMENT', `Invalid value at '${issue.path}': ${issue.message}`);
    }
    const request = parsed.data;
    const model = decodeURIComponent(/^\/v1beta\/models\/([^/:]+):/.exec(ctx.url.pathname)![1]!);
    const parts = request.contents.flatMap((c) => c.parts);
    const images = parts.flatMap((p) =>
      'inline_data' in p ? [p.inline_data.data] : 'inlineData' in p ? [p.inlineData.data] : [],
    );
    // Gemini 2.5 takes up to 3,000 images per prompt (the pages of a document, say).
    if (images.length === 0 || images.length > GEMINI_MAX_IMAGES)
      return status(
        400,
        'INVALID_ARGUMENT',
        `The simulator answers requests with 1 to ${GEMINI_MAX_IMAGES} images (got ${images.length}).`,
      );
    const loaded: SimImage[] = [];
    for (const data of images) {
      try {
        loaded.push(await readImage(Buffer.from(data, 'base64')));
      } catch (error) {
        return status(
          400,
          'INVALID_ARGUMENT',
          `Unable to process input image: ${error instanceof BadImageError ? error.message : String(error)}`,
        );
      }
    }
    const [image, ...pages] = loaded as [SimImage, ...SimImage[]];
    const text = [
      ...(request.systemInstruction?.parts ?? []).map((p) => p.text),
      ...parts.map((p) => ('text' in p ? p.text : '')),
    ].join('\n');
    const responseSchema = request.generationConfig?.responseSchema;
    const schema = responseSchema
      ? (fromGeminiSchema(responseSchema as Record<string, unknown>) as unknown as Record<string, unknown>)
      : undefined;
    const imageTokens = loaded.reduce((sum, one) => sum + geminiImageTokens(one.width, one.height), 0);
    const textTokens = estimateTextTokens(text + (responseSchema ? JSON.stringify(responseSchema) : ''));
    const inputTokens = imageTokens + textTokens;
    return {
      call: {
        api: 'gemini',
        kind: schema ? 'extract' : 'ask',
        model,
        image,
        ...(pages.length > 0 ? { pages } : {}),
        ...(schema ? { schema } : {}),
        prompt: text,
      },
      inputTokens,
      imageTokens,
      reply(answer) {
        responses++;
        const content = schema ? JSON.stringify(answer) : askAnswerText(answer);
        const outputTokens = estimateTextTokens(content);
        return {
          status: 200,
          outputTokens,
          body: {
            candidates: [
              { content: { parts: [{ text: content }], role: 'model' }, finishReason: 'STOP', index: 0 },
            ],
            usageMetadata: {
              promptTokenCount: inputTokens,
              candidatesTokenCount: outputTokens,
              totalTokenCount: inputTokens + outputTokens,
              promptTokensDetails: [
                { modality: 'TEXT', tokenCount: textTokens },
                { modality: 'IMAGE', tokenCount: imageTokens },
              ],
            },
            modelVersion: model,
            responseId: `sim${responses}`,
          },
        };
      },
    };
  },
};
