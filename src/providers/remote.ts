/**
 * What the remote providers share and nothing else: option checks, the API key from the
 * environment, prompts, wire validation and usage accounting. Each provider's quirks stay
 * in its own file.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { VisionpipeError } from '../errors.js';
import { isLoopbackHost } from '../image/address-policy.js';
import type { OutputFormat } from '../image/options.js';
import { emptyOutput } from '../patterns/empty-output.js';
import type { Pattern } from '../patterns/types.js';
import { markBilled } from './billed.js';
import { redactedPrefix, registerSecret } from './secrets.js';
import type { TokenEstimate, Usage } from './spec.js';
import { estimateTextTokens } from './tokens.js';

/** Options every remote provider takes. */
export interface RemoteProviderOptions {
  /** Default: the provider's environment variable (OPENAI_API_KEY, …). Never logged. */
  apiKey?: string;
  /** API root, e.g. an OpenAI-compatible server's `http://localhost:8000/v1`. */
  baseUrl?: string;
  /** Per HTTP request, ms (default 120 000). The pipeline's per-image timeout still applies. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 120_000;

/** Whether the URL's host is this machine's loopback, by the address it spells (`isLoopbackHost`). */
export function isLoopback(url: URL): boolean {
  return isLoopbackHost(url.hostname);
}

/** The base URL without a trailing slash; INVALID_OPTION unless it is http(s). */
export function resolveBaseUrl(provider: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${provider}: baseUrl ${JSON.stringify(value)} is not a URL`,
      {
        option: 'baseUrl',
      },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${provider}: baseUrl must be http(s) (got ${JSON.stringify(url.protocol)})`,
      { option: 'baseUrl' },
    );
  }
  // `http://127.0.0.1:/v1` parses as port 80: a port left out by mistake (an unset shell
  // variable) would send every call to whatever listens there (trial 10c).
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(?=[/?#]|$)/i.test(value.trim())) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${provider}: baseUrl ${JSON.stringify(value)} has an empty port after ":"; give the port or leave the ":" out`,
      { option: 'baseUrl' },
    );
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/**
 * The API key: the explicit option, else the environment variable. A server on loopback
 * (Ollama, vLLM, LM Studio, the simulator) may run without one.
 */
export function resolveApiKey(
  provider: string,
  envVar: string,
  explicit: string | undefined,
  baseUrl: URL,
): string | undefined {
  const key = explicit ?? process.env[envVar];
  if (key !== undefined && key !== '') {
    registerSecret(key); // hidden wherever it might be echoed, whatever its shape
    return key;
  }
  if (isLoopback(baseUrl)) return undefined;
  throw new VisionpipeError(
    'MISSING_API_KEY',
    `${provider}: ${envVar} is not set; export the API key in the environment`,
    { option: envVar },
  );
}

export function resolveTimeout(provider: string, value: number | undefined): number {
  const timeout = value ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${provider}: timeoutMs must be a positive number (got ${value})`,
      {
        option: 'timeoutMs',
      },
    );
  }
  return timeout;
}

/** Validates a response body at the edge: anything unexpected is BAD_RESPONSE naming the field. */
export function parseWire<T>(
  provider: string,
  schema: z.ZodType<T>,
  body: unknown,
  what: string,
  billed?: WireUsage,
): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  const message = `${provider}: unexpected ${what}${path}: ${issue?.message ?? 'invalid shape'}`;
  const usage = billed === undefined ? undefined : lenientUsage(body, billed);
  // The envelope that failed is what the record shows as raw_output.
  const raw = JSON.stringify(body) ?? String(body);
  if (usage === undefined) throw new VisionpipeError('BAD_RESPONSE', message, { raw });
  // The server billed an answer whose envelope we refuse: the same request gets the same
  // shape, so it is not sent again (no retry, no repeat with the image: no `answer` to
  // repair from), and the usage it carries, image tokens included, is counted.
  throw markBilled(
    new VisionpipeError('BAD_RESPONSE', `${message} (not sent again: the same request gets the same shape)`, {
      retryable: false,
      raw,
    }),
    { usage, model: stringAt(body, ['model']) ?? stringAt(body, ['modelVersion']) ?? billed!.model },
  );
}

/** Where a provider's envelope keeps its token counts, read without trusting the rest of it. */
export interface WireUsage {
  model: string;
  /** Path to the usage object, e.g. ['usage'] or ['usageMetadata']. */
  at: string[];
  input: string[];
  output: string[];
  /** The image tokens sent (published formula): counted in image_tokens, capped at the input read. */
  imageTokens?: number;
}

function numberAt(value: unknown, key: string): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const n = (value as Record<string, unknown>)[key];
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

function stringAt(value: unknown, path: string[]): string | undefined {
  let at: unknown = value;
  for (const key of path)
    at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  return typeof at === 'string' ? at : undefined;
}

function lenientUsage(body: unknown, wire: WireUsage): Usage | undefined {
  let at: unknown = body;
  for (const key of wire.at)
    at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  const sum = (keys: string[]) =>
    keys.reduce<number | undefined>((total, key) => {
      const n = numberAt(at, key);
      return n === undefined ? total : (total ?? 0) + n;
    }, undefined);
  const input = sum(wire.input);
  if (input === undefined) return undefined;
  return {
    input_tokens: input,
    output_tokens: sum(wire.output) ?? 0,
    image_tokens: Math.min(wire.imageTokens ?? 0, input),
    estimated: false,
  };
}

/** A name structured-output APIs accept (`^[a-zA-Z0-9_-]{1,64}$`), derived from the pattern name. */
export function schemaName(patternName: string): string {
  const name = patternName
    .normalize('NFKD')
    .replace(/[^a-zA-Z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return name === '' ? 'extraction' : name;
}

export function mediaType(format: OutputFormat): string {
  return `image/${format}`;
}

export const SYSTEM_PROMPT =
  'You read images and return structured data that matches the given schema exactly. ' +
  'Report only what the image shows: use null for a field that is not visible and never guess. ' +
  'Copy numbers, codes and names exactly as printed; write dates as YYYY-MM-DD.';

/**
 * A provider's `answerKey`: its answer-changing options in a fixed order plus the prompt
 * it sends (a new prompt is a new answer), as one stable string. Secrets never go in.
 */
export function answerKeyOf(options: Record<string, string | number | null>): string {
  const prompt = createHash('sha256')
    .update(SYSTEM_PROMPT)
    .update(extractionText({ name: '', instructions: '' } as Pattern))
    .update(askText(''))
    .digest('hex')
    .slice(0, 16);
  return JSON.stringify({ ...options, prompt });
}

/** The user-turn text of an extraction: the pattern's own instructions. */
export function extractionText(pattern: Pattern): string {
  const instructions = pattern.instructions.trim();
  return `${instructions === '' ? 'Extract the fields of the schema.' : instructions}\nReturn the "${schemaName(pattern.name)}" fields for this image.`;
}

/** The text of a repair call: the earlier answer, what was wrong with it, and the ask. */
export function repairText(pattern: Pattern, repair: { answer: string; problem: string }): string {
  return `${extractionText(pattern)}
An earlier answer for this image could not be read (${repair.problem}). It was:
${redactedPrefix(repair.answer, 20_000)}
Return the same data as one JSON value that matches the schema, and nothing else.`;
}

export function askText(question: string): string {
  return `${question.trim()}\nAnswer with one word: yes or no.`;
}

/** "Yes." → true, "no" → false; a sentence that says one of them but not both counts, less surely. */
export function parseYesNo(provider: string, text: string): { answer: boolean; confidence: number } {
  const trimmed = text.trim().toLowerCase();
  const first = /^[^a-z]*(yes|no)\b/.exec(trimmed);
  if (first) return { answer: first[1] === 'yes', confidence: 0.9 };
  const yes = /\byes\b/.test(trimmed);
  const no = /\bno\b/.test(trimmed);
  if (yes !== no) return { answer: yes, confidence: 0.6 };
  // At temperature 0 the same question gets the same answer: retrying it only pays again.
  throw new VisionpipeError(
    'BAD_RESPONSE',
    `${provider}: the yes/no answer was neither (${JSON.stringify(redactedPrefix(text, 80))})`,
    { retryable: false },
  );
}

export interface UsageInputs {
  /** The provider's own counts, when the response had them. */
  input?: number | undefined;
  output?: number | undefined;
  /** From the image-token estimator (or the provider's own image count). */
  imageTokens: number;
  /** Everything sent as text (prompts, schema), for the estimate. */
  promptText: string;
  /** Everything received as text, for the estimate. */
  outputText: string;
}

/** The response's real usage when it has one; else an estimate of everything, marked `estimated`. */
export function usageOf(inputs: UsageInputs): Usage {
  if (inputs.input !== undefined && inputs.output !== undefined) {
    return {
      input_tokens: inputs.input,
      output_tokens: inputs.output,
      image_tokens: Math.min(inputs.imageTokens, inputs.input),
      estimated: false,
    };
  }
  return {
    input_tokens: inputs.imageTokens + estimateTextTokens(inputs.promptText),
    output_tokens: estimateTextTokens(inputs.outputText),
    image_tokens: inputs.imageTokens,
    estimated: true,
  };
}

/**
 * Output tokens to expect for a pattern: the schema's output with every value empty,
 * half again for the values themselves. An estimate, and labelled as one.
 */
export function expectedOutputTokens(pattern: Pattern): number {
  return Math.ceil(estimateTextTokens(JSON.stringify(emptyOutput(pattern.schema))) * 1.5);
}

/**
 * An extraction call's tokens around an image of `imageTokens`: the image, the provider's
 * prompt text (plus `framing`, the message structure's own tokens) and the expected output.
 */
export function extractEstimate(
  imageTokens: number,
  pattern: Pattern,
  promptText: string,
  framing = 0,
): TokenEstimate {
  return {
    image_tokens: imageTokens,
    input_tokens: imageTokens + estimateTextTokens(promptText) + framing,
    output_tokens: expectedOutputTokens(pattern),
  };
}

/** `base` + `path`, keeping the base's query string (Azure-style `?api-version=`). */
export function endpoint(base: URL, path: string): string {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  return url.href;
}

export function dataUrl(data: Buffer, format: OutputFormat): string {
  return `data:${mediaType(format)};base64,${data.toString('base64')}`;
}
