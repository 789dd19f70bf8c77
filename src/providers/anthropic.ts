/**
 * Anthropic Messages API. The image goes as a base64 source block before the text (the
 * order Anthropic recommends); structured output is a forced tool call whose
 * `input_schema` is the pattern's schema, so the answer arrives as the tool's `input`.
 * Wire format: https://docs.anthropic.com/en/api/messages
 */
import { z } from 'zod';
import { VisionpipeError } from '../errors.js';
import { parseRateLimitHeaders } from '../flow/rate-limit-headers.js';
import { SIZE_PROFILES } from '../image/profiles.js';
import { requestSchema, type StructuredOutputSupport } from '../patterns/request-schema.js';
import type { Pattern } from '../patterns/types.js';
import { redactedPrefix } from '../secrets.js';
import { emptyAnswer, markBilled, readAnswerJson, readBilled } from './billed.js';
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
import type { RequestTokens } from './token-budget.js';
import { anthropicImageTokens, estimateTextTokens } from './tokens.js';

export const ANTHROPIC_ENV = API_KEY_ENV.anthropic;
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_DEFAULT_MODEL = 'claude-sonnet-4-5';
/** The Messages API version this file speaks. */
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicProviderOptions extends RemoteProviderOptions {
  /** `max_tokens` of an extraction (required by the API; default 4096). */
  maxOutputTokens?: number;
}

/** Quantifier bounds above this count as the "large ranges" Anthropic's grammar refuses. */
const LARGEST_QUANTIFIER = 100;

/**
 * Whether Anthropic's grammar compiler takes this regular expression: no backreferences,
 * no lookahead or lookbehind, no word boundaries, no large `{n,m}` ranges.
 */
export function isSimpleRegex(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9bBk]/.test(next)) return false;
      i++;
    } else if (c === '(' && /^\?(=|!|<=|<!)/.test(pattern.slice(i + 1, i + 4))) {
      return false;
    } else if (c === '{') {
      const bounds = /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i));
      if (bounds && Math.max(Number(bounds[1]), Number(bounds[2] || 0)) > LARGEST_QUANTIFIER) return false;
    }
  }
  return true;
}

/**
 * What structured outputs (strict tool use) accept besides types, enums and objects:
 * `pattern` with simple regular expressions, `minItems` of 0 or 1, and the formats
 * date-time, time, date, duration, email, hostname, uri, ipv4, ipv6 and uuid. Numeric
 * bounds, string lengths, `maxItems` and `uniqueItems` go into the field's description.
 * The forced tool call visionpipe makes is not strict, but its `input_schema` keeps to
 * this subset so the model reads every rule in a form it is trained on.
 * Source: https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations
 */
export const ANTHROPIC_TOOL_SUPPORT: StructuredOutputSupport = {
  keywords: new Set(['pattern', 'minItems']),
  formats: new Set([
    'date-time',
    'time',
    'date',
    'duration',
    'email',
    'hostname',
    'uri',
    'ipv4',
    'ipv6',
    'uuid',
  ]),
  accepts: (keyword, node) =>
    keyword === 'pattern' ? isSimpleRegex(node.pattern ?? '') : (node.minItems ?? 0) <= 1,
};

/** The pattern's schema as the forced tool's `input_schema`. */
export function anthropicSchema(pattern: Pattern) {
  return requestSchema(pattern.schema, ANTHROPIC_TOOL_SUPPORT);
}

const contentBlockSchema = z.union([
  z.object({ type: z.literal('tool_use'), name: z.string(), input: z.unknown() }),
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.string() }),
]);

const messageResponseSchema = z.object({
  model: z.string().optional(),
  content: z.array(contentBlockSchema),
  stop_reason: z.string().nullish(),
  usage: z
    .object({
      input_tokens: z.number().int().nonnegative(),
      output_tokens: z.number().int().nonnegative(),
      cache_creation_input_tokens: z.number().int().nonnegative().nullish(),
      cache_read_input_tokens: z.number().int().nonnegative().nullish(),
    })
    .nullish(),
});

type MessageResponse = z.infer<typeof messageResponseSchema>;

/** Every input token the call consumed: cache writes and reads are counted apart from `input_tokens`. */
function inputTokens(response: MessageResponse): number | undefined {
  const usage = response.usage;
  if (!usage) return undefined;
  return usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

export class AnthropicProvider implements Provider {
  readonly id = 'anthropic';
  readonly defaultModel = ANTHROPIC_DEFAULT_MODEL;
  readonly baseUrl: string;
  readonly answerKey: string;
  /**
   * 8000 px per edge, 5 MB per image counted as base64 text (the API's 400s: "At least one
   * of the image dimensions exceed max allowed size: 8000 pixels", "image exceeds 5 MB
   * maximum: N bytes > 5242880 bytes"), 32 MB per request (vision guide, API overview).
   * Up to 100 images per API request for 200k-context models ("100 per request on the
   * API", platform.claude.com/docs/en/build-with-claude/vision, "General limits"); past 20
   * images each must be within 2000×2000 px ("If you submit more than 20 images in one API
   * request, this limit is 2000×2000 px", same page): `manyImages`, applied whatever the
   * profile (`--profile none` included).
   */
  readonly limits = {
    maxEdge: 8000,
    maxImageBytes: 5 * 1024 * 1024,
    base64Counted: true,
    maxRequestBytes: 32_000_000,
    maxImagesPerRequest: 100,
    manyImages: { images: 20, maxEdge: 2000 },
  };
  /** The key given in options; the environment is read when a call needs it (see checkCredentials). */
  readonly #explicitKey: string | undefined;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #maxOutputTokens: number;

  constructor(options: AnthropicProviderOptions = {}) {
    this.#base = resolveBaseUrl(this.id, options.baseUrl ?? ANTHROPIC_BASE_URL);
    this.baseUrl = this.#base.href;
    this.#explicitKey = options.apiKey;
    this.#timeoutMs = resolveTimeout(this.id, options.timeoutMs);
    this.#maxOutputTokens = options.maxOutputTokens ?? 4096;
    this.answerKey = answerKeyOf({ baseUrl: this.baseUrl, maxOutputTokens: this.#maxOutputTokens });
    retainOrigin(this.#base.origin);
  }

  /** Long edge ≤ 1568 px and ~1.15 MP: Anthropic's native resolution, nothing it would shrink again. */
  sizeProfile() {
    return SIZE_PROFILES.anthropic;
  }

  estimateImageTokens(width: number, height: number): number {
    return anthropicImageTokens(width, height);
  }

  estimateExtractTokens(width: number, height: number, pattern: Pattern): TokenEstimate {
    return extractEstimate(this.estimateImageTokens(width, height), pattern, extractPrompt(pattern));
  }

  async extract(request: ExtractRequest, signal: AbortSignal): Promise<ExtractResult> {
    const model = request.model || this.defaultModel;
    const body = anthropicExtractionBody(request, model, this.#maxOutputTokens);
    const imageTokens = request.repair
      ? 0
      : requestImages(request).reduce((sum, one) => sum + anthropicImageTokens(one.width, one.height), 0);
    // What the request counts against the per-minute budgets, so that a 429 for a request
    // alone over one is read as too large, not waited out (token-budget.ts).
    const text = request.repair
      ? repairText(request.pattern, request.repair)
      : extractPrompt(request.pattern);
    const { headers, body: raw } = await this.call(body, signal, {
      input: imageTokens + estimateTextTokens(text),
      output: this.#maxOutputTokens,
    });
    return {
      ...readAnthropicExtraction(raw, {
        model,
        imageTokens,
        promptText: extractPrompt(request.pattern),
        tool: schemaName(request.pattern.name),
      }),
      rateLimit: parseRateLimitHeaders(this.id, headers),
    };
  }

  /** A yes/no question answered in a few tokens. */
  async ask(request: AskRequest, signal: AbortSignal): Promise<AskResult> {
    const model = request.model || this.defaultModel;
    const text = askText(request.question);
    const body = {
      model,
      max_tokens: 5,
      messages: [{ role: 'user', content: [imageBlock(request.image), { type: 'text', text }] }],
      temperature: 0,
    };
    const { headers, body: raw } = await this.call(body, signal);
    const response = parseWire(
      this.id,
      messageResponseSchema,
      raw,
      'message',
      anthropicWireUsage(model, anthropicImageTokens(request.image.width, request.image.height)),
    );
    const answer = response.content
      .map((block) => ('text' in block && typeof block.text === 'string' ? block.text : ''))
      .join('');
    const usage = usageOf({
      input: inputTokens(response),
      output: response.usage?.output_tokens,
      imageTokens: anthropicImageTokens(request.image.width, request.image.height),
      promptText: text,
      outputText: answer,
    });
    // Billed from here on: a refusal or an answer that is no verdict still cost its tokens.
    const billed = { usage, model: response.model ?? model };
    readBilled(billed, () => refuseIfRefused(response));
    return {
      ...readBilled(billed, () => parseYesNo(this.id, answer)),
      model: response.model ?? model,
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
    return resolveApiKey(this.id, ANTHROPIC_ENV, this.#explicitKey, this.#base);
  }

  close(): Promise<void> {
    return releaseOrigin(this.#base.origin);
  }

  private async call(body: unknown, signal: AbortSignal, tokens?: RequestTokens) {
    const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
    if (this.#apiKey !== undefined) headers['x-api-key'] = this.#apiKey;
    const result = await requestJson({
      provider: this.id,
      url: endpoint(this.#base, '/v1/messages'),
      method: 'POST',
      headers,
      json: body,
      timeoutMs: this.#timeoutMs,
      signal,
      secrets: [this.#apiKey],
      ...(tokens === undefined ? {} : { tokens }),
    });
    return { headers: result.headers, body: result.body };
  }
}

function imageBlock(image: ProviderImage) {
  return {
    type: 'image',
    source: { type: 'base64', media_type: mediaType(image.format), data: image.data.toString('base64') },
  };
}

function refuseIfRefused(response: MessageResponse): void {
  if (response.stop_reason === 'refusal') {
    throw new VisionpipeError('BAD_RESPONSE', 'anthropic: the model refused to answer', { retryable: false });
  }
}

/**
 * The Messages body of one extraction. Exported because a Message Batches request's
 * `params` is exactly this body: batch and single calls must never drift apart.
 */
export function anthropicExtractionBody(
  request: ExtractRequest,
  model: string,
  maxOutputTokens: number,
): Record<string, unknown> {
  const tool = schemaName(request.pattern.name);
  return {
    model,
    max_tokens: maxOutputTokens,
    system: SYSTEM_PROMPT,
    messages: [
      {
        role: 'user',
        // A repair needs only the earlier answer: no image, no image tokens.
        content: request.repair
          ? [{ type: 'text', text: repairText(request.pattern, request.repair) }]
          : // The pages of a document go together, page 1 first, before the text.
            [
              ...requestImages(request).map(imageBlock),
              { type: 'text', text: extractionText(request.pattern) },
            ],
      },
    ],
    tools: [
      {
        name: tool,
        description: toolDescription(request.pattern),
        input_schema: anthropicSchema(request.pattern),
      },
    ],
    tool_choice: { type: 'tool', name: tool },
    temperature: 0,
  };
}

/** What reading an answer needs besides the answer. */
export interface AnthropicExtractionContext {
  model: string;
  /** The image's tokens by the published formula. */
  imageTokens: number;
  /** Everything sent as text, for the estimate when the answer has no usage. */
  promptText: string;
  /** The forced tool's name; unknown (any tool_use block) when reading stored batch results. */
  tool?: string;
}

/**
 * A Messages response (a single call's answer or a batch result's `message`) read into
 * an ExtractResult: the forced tool call's `input` is the output.
 */
export function readAnthropicExtraction(body: unknown, context: AnthropicExtractionContext): ExtractResult {
  const response = parseWire(
    'anthropic',
    messageResponseSchema,
    body,
    'message',
    anthropicWireUsage(context.model, context.imageTokens),
  );
  const model = response.model ?? context.model;
  const usage = usageOf({
    input: inputTokens(response),
    output: response.usage?.output_tokens,
    imageTokens: context.imageTokens,
    promptText: context.promptText,
    outputText: JSON.stringify(response.content),
  });
  // From here on the call was billed, whatever goes wrong with its answer.
  readBilled({ usage, model }, () => refuseIfRefused(response));
  const tool = context.tool;
  const call = response.content.find(
    (block): block is { type: 'tool_use'; name: string; input: unknown } =>
      block.type === 'tool_use' && 'name' in block && (tool === undefined || block.name === tool),
  );
  const cutOff = response.stop_reason === 'max_tokens' ? ' (cut off at max_tokens)' : undefined;
  // Some models (and gateways) send the tool input as a JSON string instead of an object.
  if (call && typeof call.input === 'string')
    return {
      output: readAnswerJson('anthropic', call.input, { usage, model }, cutOff),
      model,
      usage,
      raw: body,
    };
  if (call) return { output: call.input, model, usage, raw: body };
  // No tool call: a model that wrote its answer as text instead is read like any other.
  const text = response.content
    .map((block) => ('text' in block && typeof block.text === 'string' ? block.text : ''))
    .join('');
  if (text.trim() !== '')
    return { output: readAnswerJson('anthropic', text, { usage, model }, cutOff), model, usage, raw: body };
  // Another tool called: the same request calls it again. Its input is the answer the one
  // repair call starts from (text only), never a blind retry.
  const other = response.content.find(
    (block): block is { type: 'tool_use'; name: string; input: unknown } => block.type === 'tool_use',
  );
  if (other && cutOff === undefined) {
    const answer = typeof other.input === 'string' ? other.input : JSON.stringify(other.input ?? null);
    throw markBilled(
      new VisionpipeError(
        'BAD_RESPONSE',
        `anthropic: the model called another tool: expected "${tool ?? 'the forced tool'}", received "${other.name}"`,
        { retryable: false },
      ),
      { usage, model, answer },
    );
  }
  if (cutOff === undefined)
    throw emptyAnswer(
      'anthropic',
      `no "${tool ?? 'tool_use'}" tool call, stop_reason ${response.stop_reason ?? 'none'}`,
      {
        usage,
        model,
      },
    );
  throw markBilled(
    new VisionpipeError(
      'BAD_RESPONSE',
      `anthropic: the answer has no "${tool ?? 'tool_use'}" tool call${cutOff}`,
      {
        retryable: false,
      },
    ),
    { usage, model },
  );
}

function toolDescription(pattern: Pattern): string {
  return `Record the fields read from the image (pattern "${pattern.name}").`;
}

/** The usage of an answer whose envelope is refused: billed all the same. */
function anthropicWireUsage(model: string, imageTokens: number) {
  return {
    model,
    imageTokens,
    at: ['usage'],
    input: ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'],
    output: ['output_tokens'],
  };
}

/** Everything an extraction sends as text (system, instructions, tool), as usage estimates count it. */
function extractPrompt(pattern: Pattern): string {
  return (
    SYSTEM_PROMPT +
    extractionText(pattern) +
    toolDescription(pattern) +
    JSON.stringify(anthropicSchema(pattern))
  );
}
