/**
 * What a pipeline's options name, loaded or opened, and which of them the pipeline owns
 * (closes): the document settings (checked first, before anything is opened:
 * INVALID_OPTION naming the option), the pattern (a path is loaded), the provider (an id
 * is created, and its credentials checked now rather than per image), the primary model
 * and its size profile, and the cache (options are opened; an open cache is borrowed).
 */
import { type CacheSetup, openCache } from '../cache/open-cache.js';
import { resolveDocumentOptions } from '../documents/options.js';
import { loadPattern } from '../patterns/index.js';
import type { Pattern } from '../patterns/types.js';
import { createProvider } from '../providers/registry.js';
import type { Provider } from '../providers/spec.js';
import type { ModelChoice } from './cascade-config.js';
import type { DocumentSettings } from './document-stage.js';
import { choose } from './model-choice.js';
import type { PipelineOptions } from './spec.js';

export interface PipelineResources {
  documentSettings: DocumentSettings;
  pattern: Pattern;
  provider: Provider;
  /** The primary model, its size profile and preprocessing. */
  primary: ModelChoice;
  cache: CacheSetup;
  /** Closes what the pipeline opened itself: a provider given by id, a cache given as options. */
  close(): Promise<void>;
}

export async function openPipelineResources(options: PipelineOptions): Promise<PipelineResources> {
  const documentSettings = resolveDocumentOptions(options.documents);
  const pattern = typeof options.pattern === 'string' ? await loadPattern(options.pattern) : options.pattern;
  const ownsProvider = typeof options.provider !== 'object';
  const provider =
    typeof options.provider === 'object'
      ? options.provider
      : createProvider(options.provider ?? 'local', options.providerOptions);
  // A pipeline is for calling: a provider given by id without its key fails here, not per image.
  if (ownsProvider) provider.checkCredentials?.();
  const primary = choose(provider, options.model, options.profile, options.preprocess);
  const ownsCache = !(options.cache && 'results' in options.cache);
  const cache =
    options.cache && 'results' in options.cache
      ? options.cache
      : await openCache({ spec: 'memory', warn: options.warn ?? (() => {}), ...options.cache });
  return {
    documentSettings,
    pattern,
    provider,
    primary,
    cache,
    async close() {
      if (ownsProvider) await provider.close();
      if (ownsCache) await cache.close();
    },
  };
}
