/**
 * createPipeline(): the library's main entry point. One pipeline = one pattern, one
 * provider and model, one size profile; `process()` takes one image through every
 * stage and always resolves to a record (errors included), `run()` streams a batch
 * through a sliding concurrency window.
 */
import { toVisionpipeError } from '../errors.js';
import { mapWindow } from '../flow/window.js';
import { type PreprocessOptions, resolvePreprocessOptions } from '../image/options.js';
import { isProfileName, type ProfileName, type SizeLimits } from '../image/profiles.js';
import type { ImageSource, SourceLimits } from '../image/source.js';
import { loadPattern } from '../patterns/index.js';
import type { Pattern } from '../patterns/types.js';
import { createProvider, type ProviderOptions } from '../providers/registry.js';
import type { Provider } from '../providers/spec.js';
import type { InputItem } from '../runs/inputs.js';
import { EMPTY_USAGE, errorRecord, type RunRecord } from './record.js';
import { extractStage, type LoadedInput, loadStage, preprocessStage, providerImage } from './stages.js';

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
  /** Per-image timeout for the provider call, ms. Default 120 000. */
  timeoutMs?: number;
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
  process(source: ImageSource, options?: { label?: string; signal?: AbortSignal }): Promise<RunRecord>;
  /** One item of an input stream (a file, a URL, or an input that could not be expanded). */
  processItem(item: InputItem, signal?: AbortSignal): Promise<RunRecord>;
  run(
    inputs: AsyncIterable<InputItem> | Iterable<InputItem>,
    options?: RunBatchOptions,
  ): AsyncGenerator<RunRecord>;
  close(): Promise<void>;
}

function labelOf(source: ImageSource): string {
  if (typeof source === 'string') return source.startsWith('data:') ? '<data URI>' : source;
  if (source instanceof Uint8Array) return `<${source.length} bytes>`;
  if ('path' in source) return source.path;
  if ('url' in source) return source.url;
  return source.name ?? '<in-memory image>';
}

export async function createPipeline(options: PipelineOptions): Promise<Pipeline> {
  const pattern = typeof options.pattern === 'string' ? await loadPattern(options.pattern) : options.pattern;
  const provider =
    typeof options.provider === 'object'
      ? options.provider
      : createProvider(options.provider ?? 'local', options.providerOptions);
  const model = options.model ?? provider.defaultModel;
  const profile = options.profile ?? provider.sizeProfile(model);
  const preprocess = resolvePreprocessOptions({ ...options.preprocess, profile: stripName(profile) });
  const profileName =
    typeof profile === 'string' ? profile : 'name' in profile ? String(profile.name) : preprocess.profileName;
  const sourceLimits = options.sourceLimits ?? {};
  const timeoutMs = options.timeoutMs ?? 120_000;
  const base = { provider: provider.id, model };

  async function process(
    source: ImageSource,
    call: { label?: string; signal?: AbortSignal } = {},
  ): Promise<RunRecord> {
    const label = call.label ?? labelOf(source);
    const started = performance.now();
    let loaded: LoadedInput | undefined;
    let image: RunRecord['image'] = null;
    let attempts = 0;
    try {
      loaded = await loadStage(source, label, {
        ...sourceLimits,
        ...(call.signal ? { signal: call.signal } : {}),
      });
      const prepared = await preprocessStage(loaded, preprocess);
      image = {
        width: prepared.width,
        height: prepared.height,
        bytes: prepared.bytes,
        original_bytes: prepared.original.bytes,
      };
      attempts = 1;
      const result = await extractStage(provider, providerImage(loaded, prepared), pattern, model, label, {
        timeoutMs,
        ...(call.signal ? { signal: call.signal } : {}),
      });
      return {
        input: label,
        sha256: loaded.sha256,
        status: 'ok',
        output: result.output,
        error: null,
        cache: 'miss',
        provider: provider.id,
        model: result.model,
        latency_ms: Math.round(performance.now() - started),
        attempts,
        image,
        usage: result.usage ?? { ...EMPTY_USAGE },
        cost_usd: 0,
        profile: profileName,
        confidence: result.confidence ?? null,
        reason: null,
      };
    } catch (error) {
      return errorRecord({ input: label, ...base }, toVisionpipeError(error, label).toJSON(), {
        sha256: loaded?.sha256 ?? null,
        latency_ms: Math.round(performance.now() - started),
        attempts,
        image,
        profile: profileName,
      });
    }
  }

  function processItem(item: InputItem, signal: AbortSignal | undefined): Promise<RunRecord> {
    if (item.kind === 'error')
      return Promise.resolve(errorRecord({ input: item.label, ...base }, item.error.toJSON()));
    const source: ImageSource = item.kind === 'file' ? { path: item.path } : { url: item.url };
    return process(source, { label: item.label, ...(signal ? { signal } : {}) });
  }

  return {
    pattern,
    provider,
    model,
    profile: profileName,
    process,
    processItem,
    run(inputs, runOptions = {}) {
      const concurrency = runOptions.concurrency ?? 4;
      return mapWindow(inputs, concurrency, (item) => processItem(item, runOptions.signal), {
        ...(runOptions.stop ? { stop: runOptions.stop } : {}),
      });
    },
    close: () => provider.close(),
  };
}

/** Profiles from providers carry a `name` and description; preprocessing wants a name or bare limits. */
function stripName(profile: ProfileName | SizeLimits): ProfileName | SizeLimits {
  if (typeof profile === 'string') return profile;
  const name = (profile as { name?: unknown }).name;
  if (typeof name === 'string' && isProfileName(name)) return name;
  const { maxLongEdge, maxShortEdge, maxPixels } = profile;
  return {
    maxLongEdge,
    ...(maxShortEdge === undefined ? {} : { maxShortEdge }),
    ...(maxPixels === undefined ? {} : { maxPixels }),
  };
}
