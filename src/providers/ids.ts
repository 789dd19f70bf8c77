/**
 * The provider ids, apart from the providers themselves: the CLI lists them in its help
 * and checks `provider:model` flags without loading any provider's code.
 */
export const PROVIDER_IDS = ['local', 'openai', 'anthropic', 'gemini', 'imggo'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** The environment variable each remote provider reads its API key from when none is given. */
export const API_KEY_ENV = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
  imggo: 'IMGGO_API_KEY',
} as const;

/**
 * The provider a model name spells in the `provider:model` form (`openai:gpt-4o` → `openai`),
 * or undefined when its prefix is not a provider id (`llava:13b`, `gpt-4o`, Bedrock's
 * `anthropic.claude-sonnet-4-5-v1:0`, a gateway's `openai/gpt-4o`).
 */
export function providerNamedBy(model: string): ProviderId | undefined {
  const colon = model.indexOf(':');
  if (colon === -1) return undefined;
  const prefix = model.slice(0, colon).trim();
  return (PROVIDER_IDS as readonly string[]).includes(prefix) ? (prefix as ProviderId) : undefined;
}
