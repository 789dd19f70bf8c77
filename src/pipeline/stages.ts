/**
 * The stages of one image, each a plain function on values (DESIGN: source →
 * fingerprint → preprocess → provider → validate → record). A stage never reaches
 * backwards; failures are VisionpipeErrors that become the image's error record.
 */

import { isVisionpipeError, toVisionpipeError, VisionpipeError } from '../errors.js';
import type { AdaptiveFlow } from '../flow/adaptive.js';
import { callWithPolicy } from '../flow/call-policy.js';
import type { ProviderBreaker } from '../flow/circuit-breaker.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import { attemptsOf, markAttempts } from '../flow/retry.js';
import { isThrottle, type ThrottleTally } from '../flow/throttle.js';
import { sha256 } from '../image/fingerprint.js';
import type { ResolvedPreprocessOptions } from '../image/options.js';
import { type PreparedImage, preprocessImage } from '../image/preprocess.js';
import { type ImageSource, loadSource, type SourceLimits } from '../image/source.js';
import { inSpan } from '../observe/spans.js';
import { assertConforms } from '../patterns/index.js';
import { fillNullContainers, nullContainersNote } from '../patterns/null-containers.js';
import type { Pattern } from '../patterns/types.js';
import { joinNotes, repairNote, unwrapOutput } from '../patterns/wrapped-output.js';
import { billedOf, markBilled } from '../providers/billed.js';
import { lenientlyRead } from '../providers/model-json.js';
import {
  type AskResult,
  type ExtractRequest,
  type ExtractResult,
  type Provider,
  type ProviderImage,
  type Usage,
  ZERO_USAGE,
} from '../providers/spec.js';
import { estimateTextTokens } from '../providers/tokens.js';
import { urlHasCredentials } from '../secrets.js';
import { estimateExtract } from './sizing.js';

export interface LoadedInput {
  label: string;
  bytes: Buffer;
  sha256: string;
  /**
   * The http(s) URL the bytes came from, only when the provider may fetch it itself:
   * `passUrls` asked for it, the URL carries no credentials and private networks were not
   * opened (allowPrivateNetworks: a provider cannot reach them, and must not be sent there).
   */
  forwardUrl: string | undefined;
  /**
   * Further pages of a document read together with this one (its first page): they go to
   * the provider in the same request, in order. `sha256` is then the content key of all
   * the pages together.
   */
  pages?: LoadedInput[];
}

/** Whether a URL the bytes came from may be passed to the provider instead of the bytes. */
export function forwardableUrl(source: ImageSource, limits: SourceLimits): string | undefined {
  const url =
    typeof source === 'object' && !(source instanceof Uint8Array) && 'url' in source ? source.url : undefined;
  if (url === undefined || limits.passUrls !== true) return undefined;
  // With private networks open the URL may be internal: a provider cannot (and must not) fetch it.
  // Ranges named in allowNetworks are the deployment's own "public" and do not prevent it.
  if (limits.allowPrivateNetworks) return undefined;
  return urlHasCredentials(url) ? undefined : url;
}

/**
 * The result-cache key of an input: its content key, or, when the provider may fetch the
 * URL itself, a key of the content AND the URL. The answer then describes what the provider
 * fetched, which the host may have changed: it must never be served for the bytes alone
 * (a local copy of what we downloaded would get another image's answer).
 */
export function resultKeyFor(contentKey: string, input: LoadedInput): string {
  return input.forwardUrl === undefined
    ? contentKey
    : `${contentKey}:url:${sha256(Buffer.from(input.forwardUrl))}`;
}

export async function loadStage(
  source: ImageSource,
  label: string,
  limits: SourceLimits,
): Promise<LoadedInput> {
  return inSpan('visionpipe.load', {}, async (span) => {
    const loaded = await loadSource(source, limits);
    span.setAttribute('visionpipe.image.bytes', loaded.bytes.length);
    return {
      label,
      bytes: loaded.bytes,
      sha256: sha256(loaded.bytes),
      forwardUrl: forwardableUrl(source, limits),
    };
  });
}

export function preprocessStage(
  input: LoadedInput,
  options: ResolvedPreprocessOptions,
): Promise<PreparedImage> {
  return inSpan('visionpipe.preprocess', { 'visionpipe.profile': options.profileName }, async (span) => {
    const prepared = await preprocessImage(input.bytes, options, input.label);
    span.setAttributes({
      'visionpipe.image.width': prepared.width,
      'visionpipe.image.height': prepared.height,
    });
    return prepared;
  });
}

export function providerImage(input: LoadedInput, prepared: PreparedImage): ProviderImage {
  return {
    data: prepared.data,
    format: prepared.format,
    width: prepared.width,
    height: prepared.height,
    sha256: input.sha256,
    // The provider fetches the original itself only when allowed (forwardUrl) and when
    // preprocessing changed nothing and stripped nothing: else it gets the prepared bytes.
    ...(input.forwardUrl && prepared.passthrough && prepared.data.equals(input.bytes)
      ? { sourceUrl: input.forwardUrl }
      : {}),
  };
}

/** How the provider call is paced, retried and isolated (flow/). */
export interface CallControls {
  flow?: AdaptiveFlow;
  /** The image's rate-limit waits (record `rate_limited`). */
  tally?: ThrottleTally;
  limiter?: Limiter;
  breaker?: ProviderBreaker;
  retry?: Omit<RetryOptions, 'signal'>;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Extracted {
  result: ExtractResult;
  /** Every billed call's usage: the answer's, plus failed billed attempts and a repair's. */
  usage: Usage;
  attempts: number;
  /** SCHEMA_MISMATCH when the output does not conform (never passed on; the caller may escalate). */
  mismatch: VisionpipeError | undefined;
  /** Why the first answer needed the one repair call, when it did. */
  repair: string | null;
  /**
   * The calls sent again after a failure that was not a rate limit (a refused envelope, a
   * 5xx…), each with its reason; undefined when none was (rate-limit waits are `rate_limited`).
   */
  retried?: string;
}

/**
 * Calls the provider through the limiter, breaker and retry policy, then validates the
 * output against the pattern. An answer that is not JSON is not retried blindly (the same
 * request writes it again): it gets one repair call, text only, and the record says so.
 * Usage adds up every billed call, failed ones included; a failure carries that sum
 * (billedOf) and the calls made (attemptsOf).
 */
export async function extractStage(
  provider: Provider,
  image: ProviderImage,
  pattern: Pattern,
  model: string,
  label: string,
  controls: CallControls,
  pages: ProviderImage[] = [],
): Promise<Extracted> {
  const estimate = estimateExtract(provider, image.width, image.height, pattern, model);
  for (const page of pages)
    estimate.input_tokens += provider.estimateImageTokens(page.width, page.height, model);
  let spent: Usage = { ...ZERO_USAGE };
  // A call sent again after a failure says so in the record (cascade.retried), with why.
  const retried: string[] = [];
  const retry: Omit<RetryOptions, 'signal'> = {
    ...controls.retry,
    onRetry: (info) => {
      controls.retry?.onRetry?.(info);
      if (isThrottle(info.error)) return;
      const failure = toVisionpipeError(info.error, label);
      retried.push(`attempt ${info.attempt}: ${failure.code} (${failure.message}); sent again`);
    },
  };
  const call = (request: ExtractRequest, tokens: number) =>
    callWithPolicy(
      async (_attempt, signal) => {
        try {
          return await provider.extract(request, signal);
        } catch (error) {
          const billed = billedOf(error);
          if (billed) spent = addUsage(spent, billed.usage);
          throw error;
        }
      },
      {
        ...(controls.flow ? { flow: controls.flow } : {}),
        ...(controls.tally ? { tally: controls.tally } : {}),
        ...(controls.limiter ? { limiter: controls.limiter } : {}),
        ...(controls.breaker ? { breaker: controls.breaker } : {}),
        retry,
        ...(controls.signal ? { signal: controls.signal } : {}),
        cost: { requests: 1, tokens },
        timeoutMs: controls.timeoutMs,
        label: `${provider.id} ${model}: ${label}`,
        observe: { provider: provider.id, model, operation: 'extract' },
      },
    );
  // A failure leaves with everything billed so far.
  const failed = (error: unknown, attempts: number, more: { answer?: string; repair?: string } = {}) =>
    markAttempts(markBilled(error, { usage: spent, model, ...more }), attempts);
  let done: { value: ExtractResult; attempts: number };
  let repair: string | null = null;
  try {
    done = await call(
      { image, pattern, model, ...(pages.length > 0 ? { pages } : {}) },
      estimate.input_tokens + estimate.output_tokens,
    );
  } catch (error) {
    const unreadable = billedOf(error)?.answer;
    const first = attemptsOf(error) ?? 1;
    if (unreadable === undefined || !isVisionpipeError(error)) throw failed(error, first);
    // An empty answer has nothing to repair from: the one further call is the request itself.
    const empty = unreadable === '';
    repair = empty ? `${error.message}; asked once more` : error.message;
    try {
      const again = empty
        ? await call(
            { image, pattern, model, ...(pages.length > 0 ? { pages } : {}) },
            estimate.input_tokens + estimate.output_tokens,
          )
        : await call(
            { image, pattern, model, repair: { answer: unreadable, problem: error.message } },
            estimateTextTokens(unreadable) * 2 + estimate.output_tokens,
          );
      done = { value: again.value, attempts: first + again.attempts };
    } catch (second) {
      const calls = first + (attemptsOf(second) ?? 1);
      // The record keeps what the model last answered and that a repair was tried.
      const more = { answer: billedOf(second)?.answer ?? unreadable, repair };
      if (!isVisionpipeError(second) || second.code !== 'BAD_RESPONSE') throw failed(second, calls, more);
      // Says what was wrong with the answer (not JSON, another tool called, empty), never a
      // guess: the first call's reason, then the second's when it differs.
      const what = empty ? 'one more call did not help' : 'one repair attempt did not help';
      const message =
        second.message === error.message
          ? `${label}: ${error.message}; ${what}`
          : `${label}: ${error.message}; ${what} (${second.message})`;
      throw failed(
        new VisionpipeError('BAD_RESPONSE', message, { input: label, retryable: false }),
        calls,
        more,
      );
    }
  }
  const { attempts } = done;
  // Comments or trailing commas read leniently (model-json.ts): no call, but the record says so.
  if (lenientlyRead(done.value.output)) repair = joinNotes(repair, LENIENT_REPAIR);
  // Tool arguments some models wrap in one extra key ({"parameter": {…}}) are read inside
  // it, and the record says so beside any repair call's note.
  const unwrapped = unwrapOutput(pattern, done.value.output);
  // A plain null for a required object or list means "not found" (null-containers.ts).
  const containers = fillNullContainers(pattern, unwrapped.output);
  const value = { ...done.value, output: containers.output };
  const repaired = joinNotes(repairNote(repair, unwrapped.wrapper), nullContainersNote(containers.filled));
  const usage = addUsage(spent, value.usage ?? ZERO_USAGE);
  const again = retried.length > 0 ? { retried: retried.join('; ') } : {};
  return inSpan('visionpipe.validate', { 'visionpipe.pattern': pattern.name }, async (span) => {
    try {
      assertConforms(pattern, value.output, label);
    } catch (error) {
      const mismatch = toVisionpipeError(error, label);
      span.setAttribute('error.type', mismatch.code);
      return { result: value, usage, attempts, mismatch, repair: repaired, ...again };
    }
    return { result: value, usage, attempts, mismatch: undefined, repair: repaired, ...again };
  });
}

const LENIENT_REPAIR =
  'the answer was not strict JSON (comments or trailing commas): read as JSON5, no repair call';

/** Usage of two calls together. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    image_tokens: a.image_tokens + b.image_tokens,
    estimated: a.estimated || b.estimated,
  };
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
      ...(controls.flow ? { flow: controls.flow } : {}),
      ...(controls.tally ? { tally: controls.tally } : {}),
      ...(controls.limiter ? { limiter: controls.limiter } : {}),
      ...(controls.breaker ? { breaker: controls.breaker } : {}),
      ...(controls.retry ? { retry: controls.retry } : {}),
      ...(controls.signal ? { signal: controls.signal } : {}),
      cost: { requests: 1, tokens: provider.estimateImageTokens(image.width, image.height, model) + 50 },
      timeoutMs: controls.timeoutMs,
      label: `${provider.id} ${model} triage: ${label}`,
      observe: { provider: provider.id, model, operation: 'ask' },
    },
  );
  return { result: value, attempts };
}
