/**
 * createPipeline(): the library's main entry point. One pipeline = one pattern, one
 * provider and model (plus optional triage and escalation models), one cache setup, one
 * run id. `process()` takes one image through every stage and always resolves to a
 * record (errors included); `run()` streams a batch through a sliding concurrency window.
 *
 * The flow of one image: content (stat memo or read + sha256) → result cache → single
 * flight (concurrent duplicates share one call) → near-duplicate check (opt-in) →
 * cascade (triage → extraction within the token budget → escalation) → save → record.
 */
import { createHash, randomUUID } from 'node:crypto';
import { resultKey } from '../cache/keys.js';
import { NearDuplicateIndex } from '../cache/near-duplicates.js';
import { type CacheOptions, type CacheSetup, openCache } from '../cache/open-cache.js';
import { SingleFlight } from '../cache/single-flight.js';
import { StatMemo } from '../cache/stat-memo.js';
import type { WarningSink } from '../cache/store.js';
import { toVisionpipeError, VisionpipeError } from '../errors.js';
import { breakerFor, type ProviderBreaker } from '../flow/circuit-breaker.js';
import type { Limiter } from '../flow/limiter.js';
import { attemptsOf, type RetryOptions } from '../flow/retry.js';
import { mapWindow } from '../flow/window.js';
import { perceptualHash } from '../image/fingerprint.js';
import { type PreprocessOptions, preprocessFingerprint, resolvePreprocessOptions } from '../image/options.js';
import { isProfileName, type ProfileName, type SizeLimits, targetSize } from '../image/profiles.js';
import { type ImageSource, isDataUri, isUrl, type SourceLimits } from '../image/source.js';
import { loadPattern, schemaMismatch, validateOutput } from '../patterns/index.js';
import type { Pattern } from '../patterns/types.js';
import type { BatchRequest } from '../providers/batch/spec.js';
import { billedOf } from '../providers/billed.js';
import { costUsd, type PriceTable } from '../providers/pricing.js';
import { createProvider, type ProviderOptions } from '../providers/registry.js';
import type { ExtractResult, Provider, TokenEstimate, Usage } from '../providers/spec.js';
import type { InputItem } from '../runs/inputs.js';
import { answerOptions, answerSettings } from './answer-settings.js';
import { type CachedResult, ResultCacheStage } from './cache-stage.js';
import {
  addCost,
  addUsage,
  type CascadeConfig,
  imageInfo,
  type ModelChoice,
  type Paid,
  paidOf,
  runCascade,
  runTriage,
  sizedFor,
  type TriageVerdict,
} from './cascade.js';
import { preparedWithinLimits, withinHardLimits } from './provider-limits.js';
import { EMPTY_USAGE, errorRecord, NO_CASCADE, type RunRecord } from './record.js';
import { estimateExtract, limitsWithinBudget } from './sizing.js';
import { type CallControls, type LoadedInput, loadStage, providerImage } from './stages.js';

export interface TriageOptions {
  provider: Provider;
  model?: string;
  /** The yes/no question (default: derived from the pattern). The local engine reads the pattern's labels instead. */
  question?: string;
  /** Resolution of the triage image (default `triage`, 256 px; 1024 px for the local engine, which must read text). */
  profile?: ProfileName | SizeLimits;
}

export interface EscalationOptions {
  provider: Provider;
  model?: string;
  /** Also escalate when the first result's confidence is below this (0–1). Schema failures always escalate. */
  below?: number;
}

export interface PipelineOptions {
  /** A loaded pattern or the path of a pattern file. */
  pattern: Pattern | string;
  /** A provider instance or id (default `local`). */
  provider?: Provider | string;
  providerOptions?: ProviderOptions;
  /** Model (default: the provider's default). */
  model?: string;
  /** Size profile override (default: what the provider's model keeps). */
  profile?: ProfileName | SizeLimits;
  /** Encoding options (format, quality, crop…); the profile comes from `profile`. */
  preprocess?: Omit<PreprocessOptions, 'profile'>;
  sourceLimits?: SourceLimits;
  /** Per-call timeout, ms. Default 120 000. */
  timeoutMs?: number;
  /** Cache setup, or options to open one (default: in-memory, deduplicating within the pipeline's life). */
  cache?: CacheSetup | CacheOptions;
  /** Reuse the result of an image within this many bits of perceptual-hash distance (off by default). */
  nearDuplicateDistance?: number;
  /** One-line warnings (cache trouble); default: ignored. */
  warn?: WarningSink;
  /** Shared rate limiter for the main provider (requests and tokens per minute); none by default. */
  limiter?: Limiter;
  /** Circuit breaker: the provider's shared one by default (none for `local`); false for none. */
  breaker?: ProviderBreaker | false;
  /** Retry policy for provider calls (default: 5 attempts, full jitter, honouring Retry-After). */
  retry?: Omit<RetryOptions, 'signal'>;
  /** Prices (default: the bundled table; see loadPriceTable for overrides). */
  priceTable?: PriceTable;
  /** Largest image-token cost per image on the main model: images are sent at the largest size within it. */
  maxImageTokens?: number;
  /** Ask a cheap model (or the local engine) whether an image is relevant before extracting. */
  triage?: TriageOptions;
  /** Retry once on a stronger model when the output fails the schema or is not confident enough. */
  escalation?: EscalationOptions;
}

export interface ImagePlan {
  width: number;
  height: number;
  tokens: TokenEstimate;
  /** The original image sent as it is (the provider still applies its own resizing). */
  naive: TokenEstimate;
}

export type Deferred =
  | { kind: 'done'; record: RunRecord }
  /** A duplicate of a request in flight: its record follows that request's result. */
  | { kind: 'waiting'; record: Promise<RunRecord> }
  | { kind: 'request'; request: BatchRequest; record: Promise<RunRecord> };

/**
 * Resume: an earlier run's record for an input, given the content just identified (the
 * stat memo's sha256 or the bytes read): the record when it was made for that content,
 * else undefined. An input is never resumed by its name alone.
 */
export type EarlierRecord = (sha256: string) => RunRecord | undefined;

export interface ProcessOptions {
  label?: string;
  signal?: AbortSignal;
  /** Returns this record instead of processing when it is for the same content (resume). */
  earlier?: EarlierRecord;
}

export interface RunBatchOptions {
  concurrency?: number;
  /** Stop starting new images (in-flight ones finish). */
  stop?: AbortSignal;
  /** Abort in-flight images too. */
  signal?: AbortSignal;
}

export interface Pipeline {
  readonly pattern: Pattern;
  readonly provider: Provider;
  readonly model: string;
  readonly profile: string;
  readonly runId: string;
  readonly cache: CacheSetup;
  /** What changes answers besides content, pattern, provider and model: part of cache keys and resume signatures. */
  readonly settings: string;
  /** The result-cache key of an image's content under this pipeline. */
  cacheKey(sha256: string): string;
  /**
   * What sending an image of this (upright) size would cost, without sending it: the size
   * it goes at (profile and token budget), and the provider's token estimate for that and
   * for the original sent as it is.
   */
  plan(width: number, height: number): ImagePlan;
  process(source: ImageSource, options?: ProcessOptions): Promise<RunRecord>;
  /**
   * One item of an input stream (a file, a URL, or an input that could not be expanded).
   * With `earlier`, an earlier run's record for the same content is returned as it is.
   */
  processItem(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<RunRecord>;
  /**
   * For provider batch APIs: everything up to the provider call. Returns the finished
   * record when no call is needed (cache hit, duplicate, triage skip, bad input), or the
   * request to put in a batch with a promise of the record, settled by `deliver()`.
   */
  defer(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<Deferred>;
  /** Hands a batch result (or a per-request error) to the request it answers. */
  deliver(customId: string, result: { result?: ExtractResult; error?: VisionpipeError }): Promise<void>;
  run(
    inputs: AsyncIterable<InputItem> | Iterable<InputItem>,
    options?: RunBatchOptions,
  ): AsyncGenerator<RunRecord>;
  close(): Promise<void>;
}

/** What one content key produced: shared by every duplicate through single-flight. */
type Outcome =
  | { kind: 'fresh'; result: CachedResult; attempts: number; skipped: boolean; reason: string | null }
  | { kind: 'near-dup'; result: CachedResult; distance: number }
  | {
      kind: 'failed';
      error: VisionpipeError;
      image: RunRecord['image'];
      attempts: number;
      paid: Paid | undefined;
    };

interface NearEntry {
  key: string;
  input: string;
  sha256: string;
}

function labelOf(source: ImageSource): string {
  if (typeof source === 'string') return isDataUri(source) ? '<data URI>' : source;
  if (source instanceof Uint8Array) return `<${source.length} bytes>`;
  if ('path' in source) return source.path;
  if ('url' in source) return source.url;
  return source.name ?? '<in-memory image>';
}

function filePathOf(source: ImageSource): string | undefined {
  if (typeof source === 'string') return isUrl(source) || isDataUri(source) ? undefined : source;
  if (source instanceof Uint8Array) return undefined;
  return 'path' in source ? source.path : undefined;
}

/** Profiles from providers carry a `name` and description; preprocessing wants a name or bare limits. */
function stripName(profile: ProfileName | SizeLimits): ProfileName | SizeLimits {
  if (typeof profile === 'string') return profile;
  const name = (profile as { name?: unknown }).name;
  if (typeof name === 'string' && isProfileName(name)) return name;
  const { maxLongEdge, maxShortEdge, maxPixels, patches } = profile;
  return {
    maxLongEdge,
    ...(maxShortEdge === undefined ? {} : { maxShortEdge }),
    ...(maxPixels === undefined ? {} : { maxPixels }),
    ...(patches === undefined ? {} : { patches }),
  };
}

function profileNameOf(profile: ProfileName | SizeLimits, fallback: string): string {
  if (typeof profile === 'string') return profile;
  const name = (profile as { name?: unknown }).name;
  return typeof name === 'string' ? name : fallback;
}

function choose(
  provider: Provider,
  model: string | undefined,
  profile: ProfileName | SizeLimits | undefined,
  encoding: Omit<PreprocessOptions, 'profile'> | undefined,
): ModelChoice {
  const chosenModel = model ?? provider.defaultModel;
  const chosenProfile = profile ?? provider.sizeProfile(chosenModel);
  // The API's hard limits hold whatever the profile says (--profile none included).
  const preprocess = withinHardLimits(
    resolvePreprocessOptions({ ...encoding, profile: stripName(chosenProfile) }),
    provider.limits,
  );
  return {
    provider,
    model: chosenModel,
    preprocess,
    profileName: profileNameOf(chosenProfile, preprocess.profileName),
  };
}

/** The default triage question: what the pattern is for, in one line. */
export function triageQuestion(pattern: Pattern): string {
  const fields = Object.keys(pattern.schema.properties).slice(0, 6).join(', ');
  return `Is this image a ${pattern.name} (a document showing fields such as ${fields})?`;
}

export async function createPipeline(options: PipelineOptions): Promise<Pipeline> {
  const pattern = typeof options.pattern === 'string' ? await loadPattern(options.pattern) : options.pattern;
  const provider =
    typeof options.provider === 'object'
      ? options.provider
      : createProvider(options.provider ?? 'local', options.providerOptions);
  // A pipeline is for calling: a provider given by id without its key fails here, not per image.
  if (typeof options.provider !== 'object') provider.checkCredentials?.();
  const primary = choose(provider, options.model, options.profile, options.preprocess);
  const model = primary.model;
  const sourceLimits = options.sourceLimits ?? {};
  const timeoutMs = options.timeoutMs ?? 120_000;
  const warn = options.warn ?? (() => {});
  const cache =
    options.cache && 'results' in options.cache
      ? options.cache
      : await openCache({ spec: 'memory', warn, ...options.cache });
  const ownsCache = !(options.cache && 'results' in options.cache);
  const ownsProvider = typeof options.provider !== 'object';
  const results = new ResultCacheStage(cache, warn);
  const flights = new SingleFlight<Outcome>();
  const nearDistance = options.nearDuplicateDistance;
  const nearIndex = nearDistance === undefined ? undefined : new NearDuplicateIndex<NearEntry>();
  const runId = randomUUID();

  const triage = options.triage
    ? {
        ...choose(
          options.triage.provider,
          options.triage.model,
          options.triage.profile ??
            (options.triage.provider.id === 'local' ? { maxLongEdge: 1024 } : 'triage'),
          options.preprocess,
        ),
        question: options.triage.question ?? triageQuestion(pattern),
      }
    : undefined;
  const escalation = options.escalation
    ? {
        ...choose(options.escalation.provider, options.escalation.model, undefined, options.preprocess),
        below: options.escalation.below,
      }
    : undefined;

  // OCR failures are per image, not an outage: the local engine gets no breaker.
  const breakers = new Map<string, ProviderBreaker | undefined>();
  const breakerOf = (p: Provider) => {
    if (options.breaker === false || p.id === 'local') return undefined;
    if (p === provider && options.breaker) return options.breaker;
    if (!breakers.has(p.id)) breakers.set(p.id, breakerFor(p.id));
    return breakers.get(p.id);
  };

  const answers = {
    primary,
    budget: options.maxImageTokens,
    triage,
    escalation,
  };
  const settings = answerSettings(answers);
  const keyOptions = answerOptions(answers);
  const primaryPreprocess = preprocessFingerprint(primary.preprocess);
  const keyFor = (sha256: string) =>
    resultKey({
      sha256,
      patternFingerprint: pattern.fingerprint,
      provider: provider.id,
      model,
      preprocess: primaryPreprocess,
      options: keyOptions,
    });
  const base = { pattern: pattern.name, provider: provider.id, model };

  function cascadeConfig(signal: AbortSignal | undefined): CascadeConfig {
    return {
      pattern,
      primary,
      maxImageTokens: options.maxImageTokens,
      triage,
      escalation,
      images: cache.images,
      verdicts: cache.results,
      ttlMs: cache.ttlMs,
      priceTable: options.priceTable,
      controlsFor: (p): CallControls => {
        const breaker = breakerOf(p);
        return {
          timeoutMs,
          ...(p === provider && options.limiter ? { limiter: options.limiter } : {}),
          ...(breaker ? { breaker } : {}),
          ...(options.retry ? { retry: options.retry } : {}),
          ...(signal ? { signal } : {}),
        };
      },
    };
  }

  function hitRecord(
    label: string,
    started: number,
    result: CachedResult,
    kind: 'hit' | 'dedup' | 'near-dup',
    distance = 0,
    // A near-duplicate's own content: it is not the original's, whose result it borrows.
    sha256 = result.sha256,
  ): RunRecord {
    return {
      input: label,
      pattern: pattern.name,
      sha256,
      status: result.output === null && result.cascade.triage?.relevant === false ? 'skipped' : 'ok',
      output: result.output,
      error: null,
      cache: kind,
      provider: provider.id,
      model: result.model,
      latency_ms: Math.round(performance.now() - started),
      attempts: 0,
      image: result.image,
      usage: { ...EMPTY_USAGE },
      cost_usd: 0,
      profile: result.profile,
      confidence: result.confidence,
      reason: result.cascade.triage?.relevant === false ? result.cascade.triage.reason : null,
      duplicate_of: kind === 'hit' ? null : { input: result.input, sha256: result.sha256, distance },
      // Entries cached before a field was added get it with its empty value.
      cascade: { ...NO_CASCADE, ...result.cascade },
    };
  }

  async function fromCache(key: string, label: string, started: number): Promise<RunRecord | undefined> {
    const hit = await results.lookup(key);
    if (!hit) return undefined;
    return hitRecord(label, started, hit, hit.run_id === runId ? 'dedup' : 'hit');
  }

  /**
   * An earlier image of this run within `--near-dup` bits of this one: its result when
   * known (`cached`), or its flight while it is still being read (`pending`). With no match,
   * this image is indexed so that later near-duplicates can follow it.
   */
  async function nearDuplicateOf(
    loaded: LoadedInput,
    key: string,
  ): Promise<{ distance: number; cached?: CachedResult; pending?: Promise<Outcome> } | undefined> {
    if (!nearIndex || nearDistance === undefined) return undefined;
    const hash = await perceptualHash(loaded.bytes, {
      label: loaded.label,
      limitInputPixels: primary.preprocess.limitInputPixels,
    });
    const match = nearIndex.nearest(hash, nearDistance);
    if (match) {
      const pending = flights.pending(match.value.key);
      if (pending) return { distance: match.distance, pending };
      const cached = await results.lookup(match.value.key);
      if (cached) return { distance: match.distance, cached };
    }
    nearIndex.add(hash, { key, input: loaded.label, sha256: loaded.sha256 });
    return undefined;
  }

  /** Everything after a cache miss, run once per content key. */
  async function fresh(loaded: LoadedInput, key: string, signal: AbortSignal | undefined): Promise<Outcome> {
    try {
      const near = await nearDuplicateOf(loaded, key);
      if (near) {
        const original = near.pending ? await near.pending : undefined;
        const result = near.cached ?? (original && original.kind !== 'failed' ? original.result : undefined);
        if (result) return { kind: 'near-dup', result, distance: near.distance };
      }
      const done = await runCascade(loaded, cascadeConfig(signal));
      const result: CachedResult = {
        output: done.output,
        model: done.model,
        usage: done.usage,
        cost_usd: done.cost_usd,
        image: done.image,
        profile: done.profile,
        confidence: done.confidence,
        input: loaded.label,
        sha256: loaded.sha256,
        run_id: runId,
        created_at: Date.now(),
        cascade: {
          triage: done.triage,
          escalated_from: done.escalatedFrom,
          escalation_reason: done.escalationReason,
          repair: done.repair,
        },
      };
      // Saved before the record is even built: a crash from here on never pays again.
      await results.save(key, result);
      return {
        kind: 'fresh',
        result,
        attempts: done.attempts,
        skipped: done.skipped,
        reason: done.triage?.reason ?? null,
      };
    } catch (error) {
      const failure = signal?.aborted
        ? new VisionpipeError('ABORTED', `${loaded.label}: aborted before the provider answered`, {
            input: loaded.label,
          })
        : toVisionpipeError(error, loaded.label);
      // Calls made before the failure were paid for, and the image was sent: the error record says so.
      const paid = paidOf(error);
      return {
        kind: 'failed',
        error: failure,
        image: paid?.image ?? null,
        attempts: attemptsOf(error) ?? 0,
        paid,
      };
    }
  }

  /** The record of one input from its content key's outcome (shared by duplicates). */
  function recordFor(
    outcome: Outcome,
    at: { label: string; started: number; sha256: string; leader: boolean },
  ): RunRecord {
    const { label, started, sha256, leader } = at;
    if (outcome.kind === 'failed') {
      return errorRecord({ input: label, ...base }, outcome.error.toJSON(), {
        sha256,
        latency_ms: Math.round(performance.now() - started),
        attempts: leader ? outcome.attempts : 0,
        image: outcome.image,
        ...(leader && outcome.paid ? { usage: outcome.paid.usage, cost_usd: outcome.paid.cost } : {}),
        profile: primary.profileName,
        cache: leader ? 'miss' : 'dedup',
      });
    }
    if (outcome.kind === 'near-dup')
      return hitRecord(label, started, outcome.result, 'near-dup', outcome.distance, sha256);
    if (!leader) return hitRecord(label, started, outcome.result, 'dedup');
    const { result } = outcome;
    return {
      input: label,
      pattern: pattern.name,
      sha256,
      status: outcome.skipped ? 'skipped' : 'ok',
      output: result.output,
      error: null,
      cache: 'miss',
      provider: provider.id,
      model: result.model,
      latency_ms: Math.round(performance.now() - started),
      attempts: outcome.attempts,
      image: result.image,
      usage: result.usage,
      cost_usd: result.cost_usd,
      profile: result.profile,
      confidence: result.confidence,
      reason: outcome.skipped ? outcome.reason : null,
      duplicate_of: null,
      cascade: result.cascade,
    };
  }

  /**
   * Content and cache: the finished record when the result is already known, else the
   * loaded input and its key. Files proven unchanged by the stat memo are not even read.
   */
  async function identify(
    source: ImageSource,
    label: string,
    started: number,
    signal: AbortSignal | undefined,
    earlier: EarlierRecord | undefined,
  ): Promise<{ record: RunRecord } | { loaded: LoadedInput; key: string }> {
    const filePath = filePathOf(source);
    const remembered = filePath && cache.memo ? cache.memo.lookup(filePath) : undefined;
    if (remembered) {
      const kept = earlier?.(remembered);
      if (kept) return { record: kept };
      const hit = await fromCache(keyFor(remembered), label, started);
      if (hit) return { record: hit };
    }
    const identity = filePath && cache.memo ? StatMemo.identity(filePath) : undefined;
    const loaded = await loadStage(source, label, { ...sourceLimits, ...(signal ? { signal } : {}) });
    if (filePath && cache.memo) cache.memo.remember(filePath, loaded.sha256, identity);
    const kept = loaded.sha256 === remembered ? undefined : earlier?.(loaded.sha256);
    if (kept) return { record: kept };
    const key = keyFor(loaded.sha256);
    const hit = await fromCache(key, label, started);
    return hit ? { record: hit } : { loaded, key };
  }

  function inputError(error: unknown, label: string, started: number): RunRecord {
    return errorRecord({ input: label, ...base }, toVisionpipeError(error, label).toJSON(), {
      latency_ms: Math.round(performance.now() - started),
      profile: primary.profileName,
    });
  }

  async function process(source: ImageSource, call: ProcessOptions = {}): Promise<RunRecord> {
    const label = call.label ?? labelOf(source);
    const started = performance.now();
    try {
      const known = await identify(source, label, started, call.signal, call.earlier);
      if ('record' in known) return known.record;
      const { loaded, key } = known;
      const { promise, leader } = flights.run(key, () => fresh(loaded, key, call.signal));
      return recordFor(await promise, { label, started, sha256: loaded.sha256, leader });
    } catch (error) {
      return inputError(error, label, started);
    }
  }

  // Batch APIs: requests waiting for their batch result, by custom id.
  interface Waiting {
    resolve: (outcome: Outcome) => void;
    loaded: LoadedInput;
    key: string;
    image: NonNullable<RunRecord['image']>;
    profile: string;
    triage: TriageVerdict | null;
    usage: Usage;
    cost: number | null;
    attempts: number;
  }
  const waiting = new Map<string, Waiting>();

  /** A batch custom id (`^[a-zA-Z0-9_-]{1,64}$`) that is the same in every run for the same content and settings. */
  const customIdOf = (key: string) => `vp-${createHash('sha256').update(key).digest('hex').slice(0, 48)}`;

  async function defer(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<Deferred> {
    const started = performance.now();
    if (item.kind === 'error') return { kind: 'done', record: processItemError(item) };
    const source: ImageSource = item.kind === 'file' ? { path: item.path } : { url: item.url };
    try {
      const known = await identify(source, item.label, started, signal, earlier);
      if ('record' in known) return { kind: 'done', record: known.record };
      const { loaded, key } = known;
      // What the runner waits for: a request to submit, nothing (the outcome is known), or
      // 'follow' (a near-duplicate whose original is itself waiting for its batch result).
      let announce: (request: BatchRequest | undefined | 'follow') => void = () => {};
      const announced = new Promise<BatchRequest | undefined | 'follow'>((resolve) => {
        announce = resolve;
      });
      const { promise, leader } = flights.run(key, async (): Promise<Outcome> => {
        const config = cascadeConfig(signal);
        let usage: Usage = { ...EMPTY_USAGE };
        let cost: number | null = 0;
        let attempts = 0;
        let verdict: TriageVerdict | null = null;
        try {
          const near = await nearDuplicateOf(loaded, key);
          if (near?.cached) {
            announce(undefined);
            return { kind: 'near-dup', result: near.cached, distance: near.distance };
          }
          if (near?.pending) {
            // It cannot wait to see whether its original fails and then join a batch already
            // sent: it follows the original, failure included (errors are not cached, so the
            // next run of the command tries both again).
            announce('follow');
            const original = await near.pending;
            if (original.kind === 'failed') return { ...original, attempts: 0, paid: undefined };
            return { kind: 'near-dup', result: original.result, distance: near.distance };
          }
          if (config.triage) {
            const judged = await runTriage(loaded, config, config.triage);
            verdict = judged.verdict;
            usage = judged.usage;
            cost = judged.cost;
            attempts = judged.attempts;
            if (!verdict.relevant) {
              announce(undefined);
              const result = cachedResult(
                loaded,
                {
                  output: null,
                  model,
                  usage,
                  cost_usd: cost,
                  image: null,
                  profile: config.triage.profileName,
                  confidence: verdict.confidence,
                },
                verdict,
              );
              await results.save(key, result);
              return { kind: 'fresh', result, attempts, skipped: true, reason: verdict.reason };
            }
          }
          const { prepared, options } = await preparedWithinLimits(
            loaded,
            await sizedFor(loaded, primary, config.maxImageTokens),
            provider.limits,
            provider.id,
            cache.images,
            cache.ttlMs,
          );
          const customId = customIdOf(key);
          const outcome = new Promise<Outcome>((resolve) => {
            waiting.set(customId, {
              resolve,
              loaded,
              key,
              image: imageInfo(prepared, primary),
              profile: options.profileName,
              triage: verdict,
              usage,
              cost,
              attempts,
            });
          });
          announce({ customId, image: providerImage(loaded, prepared), pattern, model });
          return await outcome;
        } catch (error) {
          announce(undefined);
          return {
            kind: 'failed',
            error: toVisionpipeError(error, loaded.label),
            image: null,
            attempts,
            paid: { usage, cost },
          };
        }
      });
      const record = promise.then((outcome) =>
        recordFor(outcome, { label: item.label, started, sha256: loaded.sha256, leader }),
      );
      if (!leader) return { kind: 'waiting', record };
      const request = await announced;
      if (request === 'follow') return { kind: 'waiting', record };
      return request ? { kind: 'request', request, record } : { kind: 'done', record: await record };
    } catch (error) {
      return { kind: 'done', record: inputError(error, item.label, started) };
    }
  }

  async function deliver(
    customId: string,
    answer: { result?: ExtractResult; error?: VisionpipeError },
  ): Promise<void> {
    const entry = waiting.get(customId);
    if (!entry) return;
    waiting.delete(customId);
    const attempts = entry.attempts + 1;
    const batchPrice = (model: string, usage: Usage) =>
      costUsd(provider.id, model, usage, {
        batch: true,
        ...(options.priceTable ? { table: options.priceTable } : {}),
      });
    if (!answer.result) {
      const error =
        answer.error ??
        new VisionpipeError('BAD_RESPONSE', `${entry.loaded.label}: the batch returned nothing for it`);
      // A batch line with an unreadable answer was billed all the same.
      const billed = billedOf(answer.error);
      entry.resolve({
        kind: 'failed',
        error,
        image: entry.image,
        attempts,
        paid: billed
          ? {
              usage: addUsage(entry.usage, billed.usage),
              cost: addCost(entry.cost, batchPrice(billed.model, billed.usage)),
            }
          : { usage: entry.usage, cost: entry.cost },
      });
      return;
    }
    const result = answer.result;
    const usage = addUsage(entry.usage, result.usage);
    const cost = addCost(entry.cost, batchPrice(result.model, result.usage));
    const issues = validateOutput(pattern, result.output);
    if (issues.length > 0) {
      const error = schemaMismatch(pattern, issues, entry.loaded.label);
      entry.resolve({ kind: 'failed', error, image: entry.image, attempts, paid: { usage, cost } });
      return;
    }
    const cached = cachedResult(
      entry.loaded,
      {
        output: result.output,
        model: result.model,
        usage,
        cost_usd: cost,
        image: entry.image,
        profile: entry.profile,
        confidence: result.confidence ?? null,
      },
      entry.triage,
    );
    await results.save(entry.key, cached);
    entry.resolve({ kind: 'fresh', result: cached, attempts, skipped: false, reason: null });
  }

  function cachedResult(
    loaded: LoadedInput,
    parts: Pick<CachedResult, 'output' | 'model' | 'usage' | 'cost_usd' | 'image' | 'profile' | 'confidence'>,
    verdict: TriageVerdict | null,
  ): CachedResult {
    return {
      ...parts,
      input: loaded.label,
      sha256: loaded.sha256,
      run_id: runId,
      created_at: Date.now(),
      cascade: { triage: verdict, escalated_from: null, escalation_reason: null, repair: null },
    };
  }

  function processItemError(item: InputItem & { kind: 'error' }): RunRecord {
    return errorRecord({ input: item.label, ...base }, item.error.toJSON());
  }

  function processItem(item: InputItem, signal?: AbortSignal, earlier?: EarlierRecord): Promise<RunRecord> {
    if (item.kind === 'error')
      return Promise.resolve(errorRecord({ input: item.label, ...base }, item.error.toJSON()));
    const source: ImageSource = item.kind === 'file' ? { path: item.path } : { url: item.url };
    return process(source, {
      label: item.label,
      ...(signal ? { signal } : {}),
      ...(earlier ? { earlier } : {}),
    });
  }

  return {
    pattern,
    provider,
    model,
    profile: primary.profileName,
    runId,
    cache,
    settings,
    cacheKey: keyFor,
    plan(width, height) {
      const limits = limitsWithinBudget(
        width,
        height,
        primary.preprocess.limits,
        options.maxImageTokens,
        (w, h) => provider.estimateImageTokens(w, h, model),
      );
      const sent = targetSize(width, height, limits);
      return {
        width: sent.width,
        height: sent.height,
        tokens: estimateExtract(provider, sent.width, sent.height, pattern, model),
        naive: estimateExtract(provider, width, height, pattern, model),
      };
    },
    process,
    processItem,
    defer,
    deliver,
    run(inputs, runOptions = {}) {
      return mapWindow(inputs, runOptions.concurrency ?? 4, (item) => processItem(item, runOptions.signal), {
        ...(runOptions.stop ? { stop: runOptions.stop } : {}),
      });
    },
    /** Closes what the pipeline opened itself: a provider given by id, a cache given as options. */
    async close() {
      if (ownsProvider) await provider.close();
      if (ownsCache) await cache.close();
    },
  };
}
