/**
 * Gemini `generateContent` (Gemini API, v1beta). The image goes as `inline_data`;
 * structured output is `responseMimeType: application/json` with a `responseSchema`,
 * which is an OpenAPI 3.0 subset, so the pattern's JSON Schema is converted here.
 * Wire format: https://ai.google.dev/api/generate-content
 */
import { z } from 'zod';
import { VisionpipeError } from '../errors.js';
import { parseRateLimitHeaders } from '../flow/rate-limit-headers.js';
import { SIZE_PROFILES } from '../image/profiles.js';
import { appliesTo } from '../patterns/constraints.js';
import { requestSchema, type StructuredOutputSupport } from '../patterns/request-schema.js';
import type { JsonType, Pattern, SchemaNode } from '../patterns/types.js';
import { redactedPrefix } from '../secrets.js';
import { emptyAnswer, readAnswerJson, readBilled } from './billed.js';
import { releaseOrigin, requestJson, retainOrigin } from './http.js';
import { API_KEY_ENV } from './ids.js';
import {
  answerKeyOf,
  askText,
  endpoint,
  extractEstimate,
  extractionText,
  mediaType,
  parseWire,
  parseYesNo,
  type RemoteProviderOptions,
  repairText,
  resolveApiKey,
  resolveBaseUrl,
  resolveTimeout,
  SYSTEM_PROMPT,
  usageOf,
} from './remote.js';
import type {
  AskRequest,
  AskResult,
  ExtractRequest,
  ExtractResult,
  Provider,
  ProviderImage,
  TokenEstimate,
} from './spec.js';
import { requestImages } from './spec.js';
import { geminiImageTokens } from './tokens.js';

export const GEMINI_ENV = API_KEY_ENV.gemini;
export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';
export const GEMINI_DEFAULT_MODEL = 'gemini-2.5-flash';

export interface GeminiProviderOptions extends RemoteProviderOptions {
  /** `maxOutputTokens` of an extraction (default: the model's own). */
  maxOutputTokens?: number;
}

/**
 * What Gemini's `responseSchema` (an OpenAPI 3.0 subset) accepts besides types, enums
 * and objects: `pattern`, `minLength`, `maxLength` on strings, `minimum`, `maximum` on
 * numbers, `minItems`, `maxItems` on arrays, and the string format date-time. Exclusive
 * bounds, `multipleOf`, `uniqueItems` and other formats go into the field's description.
 * Source: https://ai.google.dev/api/caching#Schema (fields of the v1beta Schema object).
 */
export const GEMINI_SCHEMA_SUPPORT: StructuredOutputSupport = {
  keywords: new Set(['pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems']),
  formats: new Set(['date-time']),
};

/** A node of Gemini's Schema object (OpenAPI 3.0 subset: upper-case types, `nullable`). */
export interface GeminiSchema {
  type?: 'STRING' | 'NUMBER' | 'INTEGER' | 'BOOLEAN' | 'ARRAY' | 'OBJECT';
  nullable?: boolean;
  title?: string;
  description?: string;
  format?: string;
  enum?: string[];
  properties?: Record<string, GeminiSchema>;
  required?: string[];
  propertyOrdering?: string[];
  items?: GeminiSchema;
  anyOf?: GeminiSchema[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

/** The pattern's schema as Gemini's `responseSchema`. */
export function geminiResponseSchema(pattern: Pattern): GeminiSchema {
  return toGeminiSchema(requestSchema(pattern.schema, GEMINI_SCHEMA_SUPPORT));
}

const GEMINI_TYPES: Record<Exclude<JsonType, 'null'>, NonNullable<GeminiSchema['type']>> = {
  string: 'STRING',
  number: 'NUMBER',
  integer: 'INTEGER',
  boolean: 'BOOLEAN',
  array: 'ARRAY',
  object: 'OBJECT',
};

/**
 * A strict JSON Schema node → Gemini's Schema: `["string","null"]` → `STRING` +
 * `nullable`; `additionalProperties` dropped (not in the subset); property order kept
 * with `propertyOrdering`; enums only for strings (Gemini's are strings); string formats
 * other than date-time moved into the description (Gemini refuses them); the
 * constraints GEMINI_SCHEMA_SUPPORT names copied where they apply to the type (run the
 * schema through requestSchema first, as geminiResponseSchema does, for the others).
 */
export function toGeminiSchema(node: SchemaNode): GeminiSchema {
  const types = (Array.isArray(node.type) ? node.type : [node.type]).filter(
    (t): t is Exclude<JsonType, 'null'> => t !== 'null',
  );
  const nullable = types.length < (Array.isArray(node.type) ? node.type.length : 1);
  if (types.length > 1) {
    return {
      anyOf: types.map((type) => toGeminiSchema({ ...node, type })),
      ...(nullable ? { nullable: true } : {}),
    };
  }
  const type = types[0] ?? 'string';
  const out: GeminiSchema = { type: GEMINI_TYPES[type] };
  if (nullable) out.nullable = true;
  if (node.title) out.title = node.title;
  const notes: string[] = node.description ? [node.description] : [];
  if (node.format === 'date-time' && type === 'string') out.format = 'date-time';
  else if (node.format) notes.push(`format: ${node.format}`);
  if (notes.length > 0) out.description = notes.join('; ');
  if (node.enum) {
    const values = node.enum.filter((v) => v !== null);
    if (type === 'string' && values.every((v): v is string => typeof v === 'string')) {
      out.format = 'enum';
      out.enum = values;
    }
  }
  if (node.properties) {
    const keys = Object.keys(node.properties);
    out.properties = Object.fromEntries(keys.map((key) => [key, toGeminiSchema(node.properties![key]!)]));
    out.required = node.required ?? keys;
    out.propertyOrdering = keys;
  }
  if (node.items) out.items = toGeminiSchema(node.items);
  for (const keyword of GEMINI_SCHEMA_SUPPORT.keywords) {
    const value = node[keyword];
    if (value !== undefined && appliesTo(keyword, [type])) (out as Record<string, unknown>)[keyword] = value;
  }
  return out;
}

const responseSchema = z.object({
  candidates: z
    .array(
      z.object({
        content: z
          .object({
            // Absent when thinking used the whole budget (finishReason MAX_TOKENS): still billed.
            parts: z
              .array(z.object({ text: z.string().optional(), thought: z.boolean().optional() }))
              .optional(),
          })
          .optional(),
        finishReason: z.string().optional(),
      }),
    )
    .optional(),
  promptFeedback: z.object({ blockReason: z.string().optional() }).optional(),
  usageMetadata: z
    .object({
      promptTokenCount: z.number().int().nonnegative().optional(),
      candidatesTokenCount: z.number().int().nonnegative().optional(),
      thoughtsTokenCount: z.number().int().nonnegative().optional(),
      promptTokensDetails: z
        .array(
          z.object({
            modality: z.string().optional(),
            tokenCount: z.number().int().nonnegative().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  modelVersion: z.string().optional(),
});

type GenerateResponse = z.infer<typeof responseSchema>;

/** Ends that mean "blocked", not "try again". */
const BLOCKED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

function answerText(response: GenerateResponse): string {
  if (response.promptFeedback?.blockReason) {
    throw new VisionpipeError(
      'BAD_RESPONSE',
      `gemini: the prompt was blocked (${response.promptFeedback.blockReason})`,
      {
        retryable: false,
      },
    );
  }
  const candidate = response.candidates?.[0];
  if (candidate?.finishReason && BLOCKED.has(candidate.finishReason)) {
    throw new VisionpipeError('BAD_RESPONSE', `gemini: the answer was blocked (${candidate.finishReason})`, {
      retryable: false,
    });
  }
  const text = (candidate?.content?.parts ?? [])
    .filter((part) => !part.thought)
    .map((part) => part.text ?? '')
    .join('');
  if (text === '' && candidate?.finishReason === 'MAX_TOKENS') {
    // Cut off before any text (thinking took the budget): the same request is cut off again.
    throw new VisionpipeError(
      'BAD_RESPONSE',
      'gemini: the answer is empty: cut off at the output limit (finishReason MAX_TOKENS)',
      {
        retryable: false,
      },
    );
  }
  return text; // '' when empty: emptyAnswer() in extract
}

/** Output tokens as billed: thinking tokens are charged as output. */
function outputTokens(response: GenerateResponse): number | undefined {
  const usage = response.usageMetadata;
  if (usage?.promptTokenCount === undefined) return undefined;
  return (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0);
}

/** Gemini reports image tokens per modality; prefer its figure to the estimate. */
function imageTokens(response: GenerateResponse, estimate: number): number {
  const image = response.usageMetadata?.promptTokensDetails?.find((d) => d.modality === 'IMAGE');
  return image?.tokenCount ?? estimate;
}

export class GeminiProvider implements Provider {
  readonly id = 'gemini';
  readonly defaultModel = GEMINI_DEFAULT_MODEL;
  readonly baseUrl: string;
  readonly answerKey: string;
  /**
   * Inline data: the whole request within 20 MB ("Request payload size exceeds the limit:
   * 20971520 bytes."). Up to 3,000 images per prompt for Gemini 2.5 Pro and Flash
   * ("Maximum images per prompt: 3,000", cloud.google.com Vertex AI "Image understanding",
   * supported models); the pages of a document go as that many `inline_data` parts.
   */
  readonly limits = { maxRequestBytes: 20 * 1024 * 1024, maxImagesPerRequest: 3000 };
  /** The key given in options; the environment is read when a call needs it (see checkCredentials). */
  readonly #explicitKey: string | undefined;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #maxOutputTokens: number | undefined;

  constructor(options: GeminiProviderOptions = {}) {
    this.#base = resolveBaseUrl(this.id, options.baseUrl ?? GEMINI_BASE_URL);
    this.baseUrl = this.#base.href;
    this.#explicitKey = options.apiKey;
    this.#timeoutMs = resolveTimeout(this.id, options.timeoutMs);
    this.#maxOutputTokens = options.maxOutputTokens;
    this.answerKey = answerKeyOf({ baseUrl: this.baseUrl, maxOutputTokens: this.#maxOutputTokens ?? null });
    retainOrigin(this.#base.origin);
  }

  /** 2×2 of Gemini's 768-px tiles. */
  sizeProfile() {
    return SIZE_PROFILES.gemini;
  }

  /** For the image as sent: Gemini tiles what it gets and does not shrink it first. */
  estimateImageTokens(width: number, height: number): number {
    return geminiImageTokens(width, height);
  }

  estimateExtractTokens(width: number, height: number, pattern: Pattern): TokenEstimate {
    return extractEstimate(this.estimateImageTokens(width, height), pattern, extractPrompt(pattern));
  }

  async extract(request: ExtractRequest, signal: AbortSignal): Promise<ExtractResult> {
    const model = request.model || this.defaultModel;
    const repair = request.repair;
    const text = repair ? repairText(request.pattern, repair) : extractionText(request.pattern);
    const schema = geminiResponseSchema(request.pattern);
    const body = {
      systemInstruction: { parts: [{ text: SYSTEM_PROMPT }] },
      // A repair needs only the earlier answer: no image, no image tokens.
      // The pages of a document go together, page 1 first, before the text.
      contents: [
        { role: 'user', parts: repair ? [{ text }] : [...requestImages(request).map(inlineData), { text }] },
      ],
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: schema,
        temperature: 0,
        ...(this.#maxOutputTokens === undefined ? {} : { maxOutputTokens: this.#maxOutputTokens }),
      },
    };
    const sentImageTokens = repair
      ? 0
      : requestImages(request).reduce((sum, one) => sum + geminiImageTokens(one.width, one.height), 0);
    const { response, headers, body: raw } = await this.call(model, body, signal, sentImageTokens);
    const answered = response.modelVersion ?? model;
    const usage = usageOf({
      input: response.usageMetadata?.promptTokenCount,
      output: outputTokens(response),
      imageTokens: repair ? 0 : imageTokens(response, sentImageTokens),
      promptText: repair ? text : extractPrompt(request.pattern),
      outputText: (response.candidates?.[0]?.content?.parts ?? []).map((p) => p.text ?? '').join(''),
    });
    // From here on the call was billed, whatever goes wrong with its answer.
    const content = readBilled({ usage, model: answered }, () => answerText(response));
    if (content.trim() === '')
      throw emptyAnswer(this.id, `finishReason ${response.candidates?.[0]?.finishReason ?? 'none'}`, {
        usage,
        model: answered,
      });
    const cutOff =
      response.candidates?.[0]?.finishReason === 'MAX_TOKENS' ? ' (cut off at MAX_TOKENS)' : undefined;
    const output = readAnswerJson(this.id, content, { usage, model: answered }, cutOff);
    return { output, model: answered, usage, rateLimit: parseRateLimitHeaders(this.id, headers), raw };
  }

  /** A yes/no question; thinking off where the model allows it, so a few tokens suffice. */
  async ask(request: AskRequest, signal: AbortSignal): Promise<AskResult> {
    const model = request.model || this.defaultModel;
    const text = askText(request.question);
    const canSkipThinking = /^gemini-2\.5-flash/.test(model);
    const thinks = /^gemini-(2\.5|[3-9])/.test(model) && !canSkipThinking;
    const body = {
      contents: [{ role: 'user', parts: [inlineData(request.image), { text }] }],
      generationConfig: {
        temperature: 0,
        maxOutputTokens: thinks ? 1024 : 5,
        ...(canSkipThinking ? { thinkingConfig: { thinkingBudget: 0 } } : {}),
      },
    };
    const {
      response,
      headers,
      body: raw,
    } = await this.call(model, body, signal, geminiImageTokens(request.image.width, request.image.height));
    const usage = usageOf({
      input: response.usageMetadata?.promptTokenCount,
      output: outputTokens(response),
      imageTokens: imageTokens(response, geminiImageTokens(request.image.width, request.image.height)),
      promptText: text,
      outputText: (response.candidates?.[0]?.content?.parts ?? []).map((p) => p.text ?? '').join(''),
    });
    // Billed from here on: a blocked answer or one that is no verdict still cost its tokens.
    const billed = { usage, model: response.modelVersion ?? model };
    const answer = readBilled(billed, () => answerText(response));
    return {
      ...readBilled(billed, () => parseYesNo(this.id, answer)),
      model: response.modelVersion ?? model,
      reason: `model answered ${JSON.stringify(redactedPrefix(answer.trim(), 40))}`,
      usage,
      rateLimit: parseRateLimitHeaders(this.id, headers),
      raw,
    };
  }

  checkCredentials(): void {
    void this.#apiKey;
  }

  get #apiKey(): string | undefined {
    return resolveApiKey(this.id, GEMINI_ENV, this.#explicitKey, this.#base);
  }

  close(): Promise<void> {
    return releaseOrigin(this.#base.origin);
  }

  /** `imageTokens`: the image tokens sent, counted when the answer's envelope is refused. */
  private async call(model: string, body: unknown, signal: AbortSignal, imageTokens = 0) {
    const headers: Record<string, string> = {};
    // The header, never `?key=`: a key in a URL ends up in logs and error messages.
    if (this.#apiKey !== undefined) headers['x-goog-api-key'] = this.#apiKey;
    const name = model.replace(/^models\//, '');
    const result = await requestJson({
      provider: this.id,
      url: endpoint(this.#base, `/models/${encodeURIComponent(name)}:generateContent`),
      method: 'POST',
      headers,
      json: body,
      timeoutMs: this.#timeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    return {
      response: parseWire(this.id, responseSchema, result.body, 'generateContent response', {
        model: name,
        at: ['usageMetadata'],
        input: ['promptTokenCount'],
        output: ['candidatesTokenCount', 'thoughtsTokenCount'],
        imageTokens,
      }),
      headers: result.headers,
      body: result.body,
    };
  }
}

function inlineData(image: ProviderImage) {
  return { inline_data: { mime_type: mediaType(image.format), data: image.data.toString('base64') } };
}

/** Everything an extraction sends as text (with the schema as Gemini receives it). */
function extractPrompt(pattern: Pattern): string {
  return SYSTEM_PROMPT + extractionText(pattern) + JSON.stringify(geminiResponseSchema(pattern));
}
