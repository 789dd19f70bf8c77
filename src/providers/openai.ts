/**
 * OpenAI Chat Completions, and through `baseUrl` every OpenAI-compatible server (vLLM,
 * Ollama, LM Studio, OpenRouter, Azure-style gateways). The image goes as a data URL, or
 * as its original http URL when preprocessing changed nothing (OpenAI fetches it: no
 * download and re-upload); structured output is `response_format: json_schema, strict`.
 * Wire format: https://platform.openai.com/docs/api-reference/chat/create
 */
import { z } from 'zod';
import { VisionpipeError } from '../errors.js';
import { parseRateLimitHeaders } from '../flow/rate-limit-headers.js';
import { SIZE_PROFILES } from '../image/profiles.js';
import { requestSchema, type StructuredOutputSupport } from '../patterns/request-schema.js';
import type { Pattern } from '../patterns/types.js';
import { redactedPrefix } from '../secrets.js';
import { emptyAnswer, readAnswerJson, readBilled } from './billed.js';
import { releaseOrigin, requestJson, retainOrigin } from './http.js';
import { API_KEY_ENV } from './ids.js';
import {
  answerKeyOf,
  askText,
  dataUrl,
  endpoint,
  extractEstimate,
  extractionText,
  parseWire,
  parseYesNo,
  type RemoteProviderOptions,
  repairText,
  resolveApiKey,
  resolveBaseUrl,
  resolveTimeout,
  SYSTEM_PROMPT,
  schemaName,
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
import { type OpenAIDetail, openaiImageTokens, openaiVisionScheme } from './tokens.js';

export const OPENAI_ENV = API_KEY_ENV.openai;
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const OPENAI_DEFAULT_MODEL = 'gpt-4.1-mini';

export interface OpenAIProviderOptions extends RemoteProviderOptions {
  /** Image detail (default "high"; "low" sends 512 px for a flat 85 tokens on tile models). */
  detail?: OpenAIDetail;
  /** Cap on output tokens for an extraction (default: the model's own). */
  maxOutputTokens?: number;
  /** Header that carries the key: `authorization` (Bearer, default) or `api-key` (Azure). */
  authHeader?: 'authorization' | 'api-key';
}

/**
 * Mistral/Magistral-style gateways send `content` as a list of parts; vLLM/Ollama may answer
 * in a tool call, and some of their versions send its `arguments` as a JSON object rather
 * than the string OpenAI documents (refusing it would bill a repeat that gets the same shape).
 */
const messageSchema = z.object({
  content: z
    .union([z.string(), z.array(z.object({ type: z.string().optional(), text: z.string().nullish() }))])
    .nullish(),
  refusal: z.string().nullish(),
  tool_calls: z
    .array(
      z.object({
        function: z
          .object({ arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish() })
          .nullish(),
      }),
    )
    .nullish(),
});

/** The answer's text: a string, the text parts joined, or else the first tool call's arguments. */
function messageText(message: z.infer<typeof messageSchema>): string {
  const content = message.content;
  const text =
    typeof content === 'string'
      ? content
      : (content ?? [])
          .filter((part) => part.type === undefined || part.type === 'text')
          .map((part) => part.text ?? '')
          .join('');
  if (text.trim() !== '') return text;
  const args = message.tool_calls?.[0]?.function?.arguments;
  if (args === undefined || args === null) return text;
  return typeof args === 'string' ? args : JSON.stringify(args);
}

const chatResponseSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(z.object({ message: messageSchema, finish_reason: z.string().nullish() }))
    .min(1, 'no choices'),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
    })
    .nullish(),
});

type ChatResponse = z.infer<typeof chatResponseSchema>;

/** The usage of an answer whose envelope is refused: billed all the same. */
function openaiWireUsage(model: string, imageTokens: number) {
  return { model, at: ['usage'], input: ['prompt_tokens'], output: ['completion_tokens'], imageTokens };
}

/** The `detail` option, checked (it comes from flags and config files). */
export function resolveDetail(detail: string | undefined): OpenAIDetail {
  const value = detail ?? 'high';
  if (value !== 'low' && value !== 'high' && value !== 'auto') {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `openai: detail must be low, high or auto (got ${JSON.stringify(value)})`,
      { option: 'detail' },
    );
  }
  return value;
}

/**
 * What strict structured outputs accept besides types, enums and objects: `pattern` and
 * the formats date-time, time, date, duration, email, hostname, ipv4, ipv6 and uuid on
 * strings; `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` and `multipleOf`
 * on numbers; `minItems` and `maxItems` on arrays. Not `minLength`/`maxLength`,
 * `uniqueItems` or the `uri` format: those go into the field's description.
 * Source: https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
 */
export const OPENAI_STRICT_SUPPORT: StructuredOutputSupport = {
  keywords: new Set([
    'pattern',
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'multipleOf',
    'minItems',
    'maxItems',
  ]),
  formats: new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']),
};

/** The pattern's schema as strict mode accepts it. */
export function openaiSchema(pattern: Pattern) {
  return requestSchema(pattern.schema, OPENAI_STRICT_SUPPORT);
}

/** o-series and gpt-5 reason before answering: no temperature, `max_completion_tokens`. */
function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

export class OpenAIProvider implements Provider {
  readonly id = 'openai';
  readonly defaultModel = OPENAI_DEFAULT_MODEL;
  readonly baseUrl: string;
  readonly detail: OpenAIDetail;
  readonly answerKey: string;
  /** "Up to 20MB per image", "up to 50 MB total payload size per request" (images-vision guide). */
  /** Per image 20 MB; per request 50 MB and up to 500 images (platform.openai.com/docs/guides/images-vision). */
  readonly limits = { maxImageBytes: 20_000_000, maxRequestBytes: 50_000_000, maxImagesPerRequest: 500 };
  /** The key given in options; the environment is read when a call needs it (see checkCredentials). */
  readonly #explicitKey: string | undefined;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #maxOutputTokens: number | undefined;
  readonly #authHeader: 'authorization' | 'api-key';

  constructor(options: OpenAIProviderOptions = {}) {
    this.#base = resolveBaseUrl(this.id, options.baseUrl ?? OPENAI_BASE_URL);
    this.baseUrl = this.#base.href;
    this.#explicitKey = options.apiKey;
    this.#timeoutMs = resolveTimeout(this.id, options.timeoutMs);
    this.detail = resolveDetail(options.detail);
    this.#maxOutputTokens = options.maxOutputTokens;
    this.#authHeader = options.authHeader ?? 'authorization';
    this.answerKey = answerKeyOf({
      baseUrl: this.baseUrl,
      detail: this.detail,
      maxOutputTokens: this.#maxOutputTokens ?? null,
    });
    retainOrigin(this.#base.origin);
  }

  /**
   * What the model keeps, by how it is billed (docs/providers.md, "Sizes by model"):
   * detail "low" 512 px; patch-billed models (gpt-4.1-mini/nano, gpt-5-mini/nano, o4-mini)
   * up to 1536 patches of 32 px, a 1024² scan as it is; tile models fit 2048, then the
   * short side 768.
   */
  sizeProfile(model: string) {
    if (this.detail === 'low') return SIZE_PROFILES['openai-low'];
    return openaiVisionScheme(model).kind === 'patches'
      ? SIZE_PROFILES['openai-patches']
      : SIZE_PROFILES['openai-high'];
  }

  estimateImageTokens(width: number, height: number, model: string): number {
    return openaiImageTokens(width, height, model, this.detail);
  }

  estimateExtractTokens(width: number, height: number, pattern: Pattern, model: string): TokenEstimate {
    // The system and user messages cost a few tokens of framing each.
    return extractEstimate(
      this.estimateImageTokens(width, height, model),
      pattern,
      extractPrompt(pattern),
      MESSAGE_OVERHEAD,
    );
  }

  async extract(request: ExtractRequest, signal: AbortSignal): Promise<ExtractResult> {
    const model = request.model || this.defaultModel;
    const body = openaiExtractionBody(request, model, this.detail, this.#maxOutputTokens);
    const { headers, body: raw } = await this.call(body, signal);
    return {
      ...readOpenAIExtraction(raw, {
        model,
        imageTokens: request.repair
          ? 0
          : requestImages(request).reduce(
              (sum, image) => sum + this.estimateImageTokens(image.width, image.height, model),
              0,
            ),
        promptText: extractPrompt(request.pattern),
      }),
      rateLimit: parseRateLimitHeaders(this.id, headers),
    };
  }

  /** A yes/no question at detail "low": a few dozen tokens instead of a full extraction. */
  async ask(request: AskRequest, signal: AbortSignal): Promise<AskResult> {
    const model = request.model || this.defaultModel;
    const reasoning = isReasoningModel(model);
    const text = askText(request.question);
    const body = {
      model,
      messages: [{ role: 'user', content: [imagePart(request.image, 'low'), { type: 'text', text }] }],
      ...(reasoning
        ? { reasoning_effort: model.startsWith('gpt-5') ? 'minimal' : 'low', max_completion_tokens: 2048 }
        : { temperature: 0, max_tokens: 3 }),
    };
    const { headers, body: raw } = await this.call(body, signal);
    const response = parseWire(
      this.id,
      chatResponseSchema,
      raw,
      'chat completion',
      openaiWireUsage(model, openaiImageTokens(request.image.width, request.image.height, model, 'low')),
    );
    const choice = response.choices[0]!;
    const usage = usageOf({
      input: response.usage?.prompt_tokens,
      output: response.usage?.completion_tokens,
      imageTokens: openaiImageTokens(request.image.width, request.image.height, model, 'low'),
      promptText: text,
      outputText: messageText(choice.message),
    });
    // Billed from here on: an answer that is no verdict still cost its tokens.
    const billed = { usage, model: response.model ?? model };
    const content = readBilled(billed, () => choiceContent(choice));
    const verdict = readBilled(billed, () => parseYesNo(this.id, content));
    return {
      ...verdict,
      model: response.model ?? model,
      reason: `model answered ${JSON.stringify(redactedPrefix(content.trim(), 40))}`,
      usage,
      rateLimit: parseRateLimitHeaders(this.id, headers),
      raw,
    };
  }

  checkCredentials(): void {
    void this.#apiKey;
  }

  get #apiKey(): string | undefined {
    return resolveApiKey(this.id, OPENAI_ENV, this.#explicitKey, this.#base);
  }

  close(): Promise<void> {
    return releaseOrigin(this.#base.origin);
  }

  private async call(body: unknown, signal: AbortSignal) {
    const headers: Record<string, string> = {};
    if (this.#apiKey !== undefined) {
      if (this.#authHeader === 'api-key') headers['api-key'] = this.#apiKey;
      else headers.authorization = `Bearer ${this.#apiKey}`;
    }
    const result = await requestJson({
      provider: this.id,
      url: endpoint(this.#base, '/chat/completions'),
      method: 'POST',
      headers,
      json: body,
      timeoutMs: this.#timeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    return { headers: result.headers, body: result.body };
  }
}

/** The original URL when the pipeline says the bytes are unchanged, else a data URL. */
function imagePart(image: ProviderImage, detail: OpenAIDetail) {
  const url = image.sourceUrl ?? dataUrl(image.data, image.format);
  return { type: 'image_url', image_url: { url, detail } };
}

function tokenCap(reasoning: boolean, max: number | undefined): Record<string, number> {
  if (max === undefined) return {};
  // Reasoning models refuse `max_tokens`; compatible servers know `max_tokens` best.
  return reasoning ? { max_completion_tokens: max } : { max_tokens: max };
}

function choiceContent(choice: ChatResponse['choices'][number]): string {
  if (choice.message.refusal) {
    throw new VisionpipeError('BAD_RESPONSE', `openai: the model refused: ${choice.message.refusal}`, {
      retryable: false,
    });
  }
  if (choice.finish_reason === 'content_filter') {
    throw new VisionpipeError('BAD_RESPONSE', 'openai: the answer was withheld by the content filter', {
      retryable: false,
    });
  }
  const content = messageText(choice.message);
  if (content === '' && choice.finish_reason === 'length') {
    // Cut off before any content: the same request is cut off again.
    throw new VisionpipeError(
      'BAD_RESPONSE',
      `openai: the answer has no content (finish_reason ${choice.finish_reason})`,
      { retryable: false },
    );
  }
  return content; // '' when empty: emptyAnswer() below
}

/**
 * The Chat Completions body of one extraction. Exported because a Batch API line carries
 * exactly this body: batch and single calls must never drift apart.
 */
export function openaiExtractionBody(
  request: ExtractRequest,
  model: string,
  detail: OpenAIDetail,
  maxOutputTokens: number | undefined,
): Record<string, unknown> {
  const reasoning = isReasoningModel(model);
  return {
    model,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      {
        role: 'user',
        // A repair needs only the earlier answer: no image, no image tokens.
        content: request.repair
          ? [{ type: 'text', text: repairText(request.pattern, request.repair) }]
          : [
              ...requestImages(request).map((image) => imagePart(image, detail)),
              { type: 'text', text: extractionText(request.pattern) },
            ],
      },
    ],
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: schemaName(request.pattern.name),
        strict: true,
        schema: openaiSchema(request.pattern),
      },
    },
    ...(reasoning ? {} : { temperature: 0 }),
    ...tokenCap(reasoning, maxOutputTokens),
  };
}

/** What reading an answer needs besides the answer: the model asked for and the usage-estimate inputs. */
export interface ExtractionContext {
  model: string;
  /** The image's tokens by the published formula. */
  imageTokens: number;
  /** Everything sent as text, for the estimate when the answer has no usage. */
  promptText: string;
}

/**
 * A chat.completion body (a single call's answer or a Batch API output line's
 * `response.body`) read into an ExtractResult; BAD_RESPONSE when it is not one.
 */
export function readOpenAIExtraction(body: unknown, context: ExtractionContext): ExtractResult {
  const response = parseWire(
    'openai',
    chatResponseSchema,
    body,
    'chat completion',
    openaiWireUsage(context.model, context.imageTokens),
  );
  const choice = response.choices[0]!;
  const model = response.model ?? context.model;
  const usage = usageOf({
    input: response.usage?.prompt_tokens,
    output: response.usage?.completion_tokens,
    imageTokens: context.imageTokens,
    promptText: context.promptText,
    outputText: messageText(choice.message),
  });
  // From here on the call was billed, whatever goes wrong with its answer.
  const content = readBilled({ usage, model }, () => choiceContent(choice));
  if (content.trim() === '')
    throw emptyAnswer('openai', `finish_reason ${choice.finish_reason ?? 'none'}`, { usage, model });
  const cutOff = choice.finish_reason === 'length' ? ' (cut off at the output token limit)' : undefined;
  const output = readAnswerJson('openai', content, { usage, model }, cutOff);
  return { output, model, usage, raw: body };
}

/** Everything an extraction sends as text, as the usage estimate counts it. */
function extractPrompt(pattern: Pattern): string {
  return SYSTEM_PROMPT + extractionText(pattern) + JSON.stringify(openaiSchema(pattern));
}

/** Chat Completions' framing of two messages (roles, separators). */
const MESSAGE_OVERHEAD = 7;
