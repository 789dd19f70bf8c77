/** Providers by id: the one place that knows every backend. */

import { didYouMean } from '../config/did-you-mean.js';
import { VisionpipeError } from '../errors.js';
import { AnthropicProvider, type AnthropicProviderOptions } from './anthropic.js';
import { GeminiProvider, type GeminiProviderOptions } from './gemini.js';
import { PROVIDER_IDS } from './ids.js';
import { ImgGoProvider, type ImgGoProviderOptions } from './imggo.js';
import { LocalProvider, type LocalProviderOptions } from './local.js';
import { OpenAIProvider, type OpenAIProviderOptions } from './openai.js';
import type { Provider } from './spec.js';

export { PROVIDER_IDS, type ProviderId } from './ids.js';

/** Options per provider; only the chosen provider's entry is read. */
export interface ProviderOptions {
  local?: LocalProviderOptions;
  openai?: OpenAIProviderOptions;
  anthropic?: AnthropicProviderOptions;
  gemini?: GeminiProviderOptions;
  imggo?: ImgGoProviderOptions;
}

/**
 * `options` with provider `id` on its own endpoint: a cascade step's base URL
 * (--triage-base-url, --escalate-base-url), even on the main provider's id.
 */
export function withBaseUrl(
  options: ProviderOptions,
  id: string,
  baseUrl: string | undefined,
): ProviderOptions {
  if (baseUrl === undefined) return options;
  const byId = options as Record<string, object | undefined>;
  return { ...byId, [id]: { ...byId[id], baseUrl } } as ProviderOptions;
}

export function createProvider(id: string, options: ProviderOptions = {}): Provider {
  switch (id) {
    case 'local':
      return new LocalProvider(options.local);
    case 'openai':
      return new OpenAIProvider(options.openai);
    case 'anthropic':
      return new AnthropicProvider(options.anthropic);
    case 'gemini':
      return new GeminiProvider(options.gemini);
    case 'imggo':
      return new ImgGoProvider(options.imggo);
    default:
      throw new VisionpipeError(
        'INVALID_OPTION',
        `provider "${id}" is not known; choose one of ${PROVIDER_IDS.join(', ')}.${didYouMean(id, PROVIDER_IDS)}`,
        { option: 'provider' },
      );
  }
}
