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
import { releaseOrigin, requestJson, retainOrigin } from './http.js';
import {
  askText,
  dataUrl,
  endpoint,
  extractionText,
  parseModelJson,
  parseWire,
  parseYesNo,
  type RemoteProviderOptions,
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
} from './spec.js';
import { type OpenAIDetail, openaiImageTokens } from './tokens.js';

export const OPENAI_ENV = 'OPENAI_API_KEY';
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

const messageSchema = z.object({
  content: z.string().nullish(),
  refusal: z.string().nullish(),
});

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

/** o-series and gpt-5 reason before answering: no temperature, `max_completion_tokens`. */
function isReasoningModel(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

export class OpenAIProvider implements Provider {
  readonly id = 'openai';
  readonly defaultModel = OPENAI_DEFAULT_MODEL;
  readonly baseUrl: string;
  readonly detail: OpenAIDetail;
  readonly #apiKey: string | undefined;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #maxOutputTokens: number | undefined;
  readonly #authHeader: 'authorization' | 'api-key';

  constructor(options: OpenAIProviderOptions = {}) {
    this.#base = resolveBaseUrl(this.id, options.baseUrl ?? OPENAI_BASE_URL);
    this.baseUrl = this.#base.href;
    this.#apiKey = resolveApiKey(this.id, OPENAI_ENV, options.apiKey, this.#base);
    this.#timeoutMs = resolveTimeout(this.id, options.timeoutMs);
    this.detail = options.detail ?? 'high';
    if (!['low', 'high', 'auto'].includes(this.detail)) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `openai: detail must be low, high or auto (got ${JSON.stringify(this.detail)})`,
        { option: 'detail' },
      );
    }
    this.#maxOutputTokens = options.maxOutputTokens;
    this.#authHeader = options.authHeader ?? 'authorization';
    retainOrigin(this.#base.origin);
  }

  /** detail "low" keeps 512 px; otherwise what OpenAI keeps at "high". */
  sizeProfile() {
    return this.detail === 'low' ? SIZE_PROFILES['openai-low'] : SIZE_PROFILES['openai-high'];
  }

  estimateImageTokens(width: number, height: number, model: string): number {
    return openaiImageTokens(width, height, model, this.detail);
  }

  async extract(request: ExtractRequest, signal: AbortSignal): Promise<ExtractResult> {
    const model = request.model || this.defaultModel;
    const reasoning = isReasoningModel(model);
    const text = extractionText(request.pattern);
    const body = {
      model,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: [this.imagePart(request.image, this.detail), { type: 'text', text }] },
      ],
      response_format: {
        type: 'json_schema',
        json_schema: { name: schemaName(request.pattern.name), strict: true, schema: request.pattern.schema },
      },
      ...(reasoning ? {} : { temperature: 0 }),
      ...this.tokenCap(reasoning, this.#maxOutputTokens),
    };
    const { response, headers, body: raw } = await this.call(body, signal);
    const choice = response.choices[0]!;
    const content = this.content(choice);
    const why = choice.finish_reason === 'length' ? ' (cut off at the output token limit)' : '';
    const output = parseModelJson(this.id, content, why);
    return {
      output,
      model: response.model ?? model,
      usage: usageOf({
        input: response.usage?.prompt_tokens,
        output: response.usage?.completion_tokens,
        imageTokens: this.estimateImageTokens(request.image.width, request.image.height, model),
        promptText: SYSTEM_PROMPT + text + JSON.stringify(request.pattern.schema),
        outputText: content,
      }),
      rateLimit: parseRateLimitHeaders(this.id, headers),
      raw,
    };
  }

  /** A yes/no question at detail "low": a few dozen tokens instead of a full extraction. */
  async ask(request: AskRequest, signal: AbortSignal): Promise<AskResult> {
    const model = request.model || this.defaultModel;
    const reasoning = isReasoningModel(model);
    const text = askText(request.question);
    const body = {
      model,
      messages: [{ role: 'user', content: [this.imagePart(request.image, 'low'), { type: 'text', text }] }],
      ...(reasoning
        ? { reasoning_effort: model.startsWith('gpt-5') ? 'minimal' : 'low', max_completion_tokens: 2048 }
        : { temperature: 0, max_tokens: 3 }),
    };
    const { response, headers, body: raw } = await this.call(body, signal);
    const content = this.content(response.choices[0]!);
    const verdict = parseYesNo(this.id, content);
    return {
      ...verdict,
      model: response.model ?? model,
      reason: `model answered ${JSON.stringify(content.trim().slice(0, 40))}`,
      usage: usageOf({
        input: response.usage?.prompt_tokens,
        output: response.usage?.completion_tokens,
        imageTokens: openaiImageTokens(request.image.width, request.image.height, model, 'low'),
        promptText: text,
        outputText: content,
      }),
      rateLimit: parseRateLimitHeaders(this.id, headers),
      raw,
    };
  }

  close(): Promise<void> {
    return releaseOrigin(this.#base.origin);
  }

  /** The original URL when the pipeline says the bytes are unchanged, else a data URL. */
  private imagePart(image: ProviderImage, detail: OpenAIDetail) {
    const url = image.sourceUrl ?? dataUrl(image.data, image.format);
    return { type: 'image_url', image_url: { url, detail } };
  }

  private tokenCap(reasoning: boolean, max: number | undefined): Record<string, number> {
    if (max === undefined) return {};
    // Reasoning models refuse `max_tokens`; compatible servers know `max_tokens` best.
    return reasoning ? { max_completion_tokens: max } : { max_tokens: max };
  }

  private content(choice: ChatResponse['choices'][number]): string {
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
    const content = choice.message.content;
    if (content === undefined || content === null || content === '') {
      throw new VisionpipeError(
        'BAD_RESPONSE',
        `openai: the answer has no content (finish_reason ${choice.finish_reason ?? 'none'})`,
      );
    }
    return content;
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
    return {
      response: parseWire(this.id, chatResponseSchema, result.body, 'chat completion'),
      headers: result.headers,
      body: result.body,
    };
  }
}
