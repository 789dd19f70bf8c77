/**
 * The stages of one image, each a plain function on values (DESIGN: source →
 * fingerprint → preprocess → provider → validate → record). A stage never reaches
 * backwards; failures are VisionpipeErrors that become the image's error record.
 */

import { toVisionpipeError, VisionpipeError } from '../errors.js';
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
import type { AskResult, ExtractResult, Provider, ProviderImage } from '../providers/spec.js';
import { estimateExtract } from './sizing.js';

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
 * Calls the provider through the limiter, breaker and retry policy, then validates the
 * output against the pattern. A non-conforming output comes back as `mismatch`
 * (SCHEMA_MISMATCH) beside the result: it must never be passed on, but the call was
 * paid, and the caller may still escalate.
 */
export async function extractStage(
  provider: Provider,
  image: ProviderImage,
  pattern: Pattern,
  model: string,
  label: string,
  controls: CallControls,
): Promise<{ result: ExtractResult; attempts: number; mismatch: VisionpipeError | undefined }> {
  const estimate = estimateExtract(provider, image.width, image.height, pattern, model);
  const tokens = estimate.input_tokens + estimate.output_tokens;
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
  try {
    assertConforms(pattern, value.output, label);
  } catch (error) {
    return { result: value, attempts, mismatch: toVisionpipeError(error, label) };
  }
  return { result: value, attempts, mismatch: undefined };
}

/** A yes/no relevance question through the same pacing, breaker and retry policy. */
export async function askStage(
  provider: Provider,
  image: ProviderImage,
  question: string,
  pattern: Pattern,
  model: string,
  label: string,
  controls: CallControls,
): Promise<{ result: AskResult; attempts: number }> {
  const ask = provider.ask?.bind(provider);
  if (!ask) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `${provider.id} cannot answer triage questions; use --triage local or another provider`,
      {
        option: 'triage',
      },
    );
  }
  const { value, attempts } = await callWithPolicy(
    (_attempt, signal) => ask({ image, question, pattern, model }, signal),
    {
      ...(controls.limiter ? { limiter: controls.limiter } : {}),
      ...(controls.breaker ? { breaker: controls.breaker } : {}),
      ...(controls.retry ? { retry: controls.retry } : {}),
      ...(controls.signal ? { signal: controls.signal } : {}),
      cost: { requests: 1, tokens: provider.estimateImageTokens(image.width, image.height, model) + 50 },
      timeoutMs: controls.timeoutMs,
      label: `${provider.id} ${model} triage: ${label}`,
    },
  );
  return { result: value, attempts };
}
