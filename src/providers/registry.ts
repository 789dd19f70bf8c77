/** Providers by id: the one place that knows every backend. */
import { VisionpipeError } from '../errors.js';
import { LocalProvider, type LocalProviderOptions } from './local.js';
import type { Provider } from './spec.js';

export const PROVIDER_IDS = ['local'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export interface ProviderOptions {
  local?: LocalProviderOptions;
}

export function createProvider(id: string, options: ProviderOptions = {}): Provider {
  switch (id) {
    case 'local':
      return new LocalProvider(options.local);
    default:
      throw new VisionpipeError(
        'INVALID_OPTION',
        `provider "${id}" is not known; choose one of ${PROVIDER_IDS.join(', ')}`,
        { option: 'provider' },
      );
  }
}
