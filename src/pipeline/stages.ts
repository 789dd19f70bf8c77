/**
 * The stages of one image, each a plain function on values (DESIGN: source →
 * fingerprint → preprocess → provider → validate → record). A stage never reaches
 * backwards; failures are VisionpipeErrors that become the image's error record.
 */
import { VisionpipeError } from '../errors.js';
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

/** Calls the provider under a per-image timeout and validates the output against the pattern. */
export async function extractStage(
  provider: Provider,
  image: ProviderImage,
  pattern: Pattern,
  model: string,
  label: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<ExtractResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let result: ExtractResult;
  try {
    result = await provider.extract({ image, pattern, model }, signal);
  } catch (error) {
    if (timeout.aborted && !(options.signal?.aborted ?? false)) {
      throw new VisionpipeError('TIMEOUT', `${label}: no result within ${options.timeoutMs} ms`, {
        input: label,
        cause: error,
      });
    }
    if (options.signal?.aborted) {
      throw new VisionpipeError('ABORTED', `${label}: aborted`, { input: label, cause: error });
    }
    throw error;
  }
  assertConforms(pattern, result.output, label);
  return result;
}
