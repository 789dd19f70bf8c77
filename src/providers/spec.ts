/**
 * The Provider interface: the one narrow seam every model backend implements (the
 * local OCR engine, OpenAI, Anthropic, Gemini, ImgGo). Provider quirks stay inside the
 * provider's own file. Remote providers own no retries, pacing or caching: flow/ and
 * cache/ do that for all of them alike.
 */

import type { OutputFormat } from '../image/options.js';
import type { SizeLimits } from '../image/profiles.js';
import type { Pattern } from '../patterns/types.js';

/** The image as it will be sent: preprocessed bytes plus what is known about it. */
export interface ProviderImage {
  data: Buffer;
  format: OutputFormat;
  width: number;
  height: number;
  /** sha256 of the original bytes (idempotency keys, logs). */
  sha256: string;
  /** The original http(s) URL, when the provider may fetch it itself instead of receiving bytes. */
  sourceUrl?: string;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  /** Tokens attributed to the image (part of input_tokens). */
  image_tokens: number;
  /** True when the figures are visionpipe's estimate rather than the provider's own count. */
  estimated: boolean;
}

export const ZERO_USAGE: Usage = Object.freeze({
  input_tokens: 0,
  output_tokens: 0,
  image_tokens: 0,
  estimated: false,
});

/** One budget a response reported. */
export interface RateLimitBudget {
  limit?: number;
  remaining?: number;
  resetMs?: number;
  /**
   * The reset was a moment (Anthropic's RFC 3339 time, a unix time), turned into `resetMs`
   * when the answer was read. Absent: a duration the server counted from when it admitted
   * the call (OpenAI's `6m0s`, IETF delta seconds), which was before the answer arrived.
   */
  resetAt?: true;
}

/** What a response said about the caller's remaining budget (flow/ paces on it). */
export interface RateLimitSnapshot {
  requests?: RateLimitBudget;
  tokens?: RateLimitBudget;
  /** Server-requested wait before the next attempt. */
  retryAfterMs?: number;
}

export interface TokenEstimate {
  input_tokens: number;
  output_tokens: number;
  image_tokens: number;
}

export interface ExtractRequest {
  image: ProviderImage;
  pattern: Pattern;
  model: string;
  /**
   * One repair of an answer that could not be read as JSON: the provider sends no image,
   * only the earlier answer and what was wrong, and asks for the same data as JSON.
   */
  repair?: { answer: string; problem: string };
  /**
   * Further pages of the same document, sent in the same request after `image` (page 1
   * first). Only for providers whose `limits.maxImagesPerRequest` is above 1.
   */
  pages?: ProviderImage[];
}

/** Every image of a request, page order: `image` then `pages`. */
export function requestImages(request: { image: ProviderImage; pages?: ProviderImage[] }): ProviderImage[] {
  return [request.image, ...(request.pages ?? [])];
}

export interface ExtractResult {
  /** The structured output, expected to conform to `pattern.schema` (validated by the pipeline). */
  output: unknown;
  usage: Usage;
  model: string;
  /** Overall confidence 0–1 when the provider reports or implies one. */
  confidence?: number;
  /** Per-field confidence 0–1, keyed by JSON pointer (`/total`, `/line_items/0/amount`). */
  fieldConfidence?: Record<string, number>;
  rateLimit?: RateLimitSnapshot;
  /** The provider's raw response, for debugging; never written to results. */
  raw?: unknown;
}

export interface AskRequest {
  image: ProviderImage;
  /** A yes/no question, e.g. "Is this an invoice?". */
  question: string;
  /** The pattern being triaged for, when there is one (its labels are evidence). */
  pattern?: Pattern;
  model: string;
}

export interface AskResult {
  answer: boolean;
  /** 0–1: how sure the provider is of `answer`. */
  confidence: number;
  usage: Usage;
  model: string;
  /** Why, in a few words (e.g. "no text found", "4 of 9 pattern labels found"). */
  reason?: string;
  rateLimit?: RateLimitSnapshot;
  raw?: unknown;
}

/**
 * What a provider refuses outright (a 400 or 413 before any model reads the image),
 * whatever the size profile says: images are brought within these before upload, or fail
 * locally with IMAGE_TOO_LARGE. Figures and sources: docs/providers.md, "Hard limits".
 */
export interface ProviderLimits {
  /** Longest edge accepted, px. */
  maxEdge?: number;
  /** Most pixels accepted per image. */
  maxPixels?: number;
  /** Largest image accepted, bytes: of its base64 text when `base64Counted` (Anthropic), else raw. */
  maxImageBytes?: number;
  base64Counted?: boolean;
  /** Largest request body, bytes; the image travels inside it as base64. */
  maxRequestBytes?: number;
  /**
   * Most images one extraction request may carry (the pages of a document sent together).
   * Absent: 1, the provider reads one image per request.
   */
  maxImagesPerRequest?: number;
  /**
   * A tighter edge once a request carries many images: over `images` images, each at most
   * `maxEdge` px per edge (Anthropic: more than 20 images → 2000×2000 px each).
   */
  manyImages?: { images: number; maxEdge: number };
}

export interface Provider {
  readonly id: string;
  readonly defaultModel: string;
  /**
   * Everything besides the model that changes this provider's answers (endpoint, image
   * detail, output cap, remote pattern, prompt), as a stable string without secrets: part
   * of result-cache keys, triage-verdict keys and resume signatures. Absent: only the id
   * and model tell answers apart.
   */
  readonly answerKey?: string;
  /** Hard limits of the API (not of the model's resolution): they hold even with `--profile none`. */
  readonly limits?: ProviderLimits;
  /** The size profile this model keeps: images are sent at exactly this size. */
  sizeProfile(model: string): SizeLimits & { name: string };
  /** Image tokens the provider will bill for an image of this size (its published formula). */
  estimateImageTokens(width: number, height: number, model: string): number;
  /**
   * Tokens an extraction of an image this size would bill, before sending it: the image
   * by the provider's formula plus the prompt as this provider builds it, and an output
   * estimate. Used by `estimate`, the tokens-per-minute limiter and cost budgets.
   */
  estimateExtractTokens?(width: number, height: number, pattern: Pattern, model: string): TokenEstimate;
  extract(request: ExtractRequest, signal: AbortSignal): Promise<ExtractResult>;
  /**
   * Throws MISSING_API_KEY when a call would need an API key that is not set. Building a
   * provider never asks for a key (estimates, `--help` and dry runs need none): a command
   * that will call the provider checks this first, so it stops before any work.
   */
  checkCredentials?(): void;
  ask?(request: AskRequest, signal: AbortSignal): Promise<AskResult>;
  /** Releases workers, sockets and timers. */
  close(): Promise<void>;
}
