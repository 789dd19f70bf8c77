/**
 * The provider ids, apart from the providers themselves: the CLI lists them in its help
 * and checks `provider:model` flags without loading any provider's code.
 */
export const PROVIDER_IDS = ['local', 'openai', 'anthropic', 'gemini', 'imggo'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];
