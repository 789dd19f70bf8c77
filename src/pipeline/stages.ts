/**
 * The stages of one image, each a plain function on values (DESIGN: source →
 * fingerprint → preprocess → provider → validate → record). A stage never reaches
 * backwards; failures are VisionpipeErrors that become the image's error record.
 */

import { callWithPolicy } from '../flow/call-policy.js';
import type { ProviderBreaker } from '../flow/circuit-breaker.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import { sha256 } from '../image/fingerprint.js';
import type { ResolvedPreprocessOptions } from '../image/options.js';
import { type PreparedImage, preprocessImage } from '../image/preprocess.js';
import { type ImageSource, loadSource, type SourceLimits } from '../image/source.js';
import { assertConforms } from '../patterns/index.js';
import type { Pattern } from '../patterns/types.js';
import type { ExtractResult, Provider, ProviderImage } from '../providers/spec.js';

export interface LoadedInput {
  label: string;
  bytes: Buffer;
  sha256: string;
  /** The http(s) URL the bytes came from, when they did. */
  url: string | undefined;
}

export async function loadStage(
  source: ImageSource,
  label: string,
  limits: SourceLimits,
): Promise<LoadedInput> {
  const loaded = await loadSource(source, limits);
  const url = typeof source === 'object' && 'url' in source ? source.url : undefined;
  return { label, bytes: loaded.bytes, sha256: sha256(loaded.bytes), url };
}

export function preprocessStage(
  input: LoadedInput,
  options: ResolvedPreprocessOptions,
): Promise<PreparedImage> {
  return preprocessImage(input.bytes, options, input.label);
}

export function providerImage(input: LoadedInput, prepared: PreparedImage): ProviderImage {
  return {
    data: prepared.data,
    format: prepared.format,
    width: prepared.width,
    height: prepared.height,
    sha256: input.sha256,
    // The provider may fetch the original itself only when preprocessing changed nothing.
    ...(input.url && prepared.passthrough ? { sourceUrl: input.url } : {}),
  };
}

/** How the provider call is paced, retried and isolated (flow/). */
export interface CallControls {
  limiter?: Limiter;
  breaker?: ProviderBreaker;
  retry?: Omit<RetryOptions, 'signal'>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * What a request will cost against a tokens-per-minute budget, before sending it: the
 * image by the provider's own formula, the prompt (instructions + schema) at ~4 characters
 * a token, and room for an answer the size of the schema.
 */
export function estimateRequestTokens(
  provider: Provider,
  image: ProviderImage,
  pattern: Pattern,
  model: string,
): number {
  const prompt = Math.ceil((pattern.instructions.length + JSON.stringify(pattern.schema).length) / 4);
  const answer = Math.ceil(JSON.stringify(pattern.schema.properties).length / 8);
  return provider.estimateImageTokens(image.width, image.height, model) + prompt + answer;
}

/**
 * Calls the provider through the limiter, breaker and retry policy, then validates the
 * output against the pattern. A non-conforming output is SCHEMA_MISMATCH, never passed on.
 */
export async function extractStage(
  provider: Provider,
  image: ProviderImage,
  pattern: Pattern,
  model: string,
  label: string,
  controls: CallControls,
): Promise<{ result: ExtractResult; attempts: number }> {
  const tokens = estimateRequestTokens(provider, image, pattern, model);
  const { value, attempts } = await callWithPolicy(
    (_attempt, signal) => provider.extract({ image, pattern, model }, signal),
    {
      ...(controls.limiter ? { limiter: controls.limiter } : {}),
      ...(controls.breaker ? { breaker: controls.breaker } : {}),
      ...(controls.retry ? { retry: controls.retry } : {}),
      ...(controls.signal ? { signal: controls.signal } : {}),
      cost: { requests: 1, tokens },
      timeoutMs: controls.timeoutMs,
      label: `${provider.id} ${model}: ${label}`,
    },
  );
  assertConforms(pattern, value.output, label);
  return { result: value, attempts };
}
