/**
 * Provider and flow-control flags shared by every command that calls a provider
 * (run, estimate, bench concurrency): which backend and model, where it lives, and how
 * calls are paced and retried. API keys never come from flags: only the environment.
 */
import type { Command } from 'commander';
import { parseDuration } from '../config/durations.js';
import { loadConfig } from '../config/file.js';
import { createLimiter } from '../flow/create-limiter.js';
import type { Limiter } from '../flow/limiter.js';
import type { RetryOptions } from '../flow/retry.js';
import { loadPriceTable, type PriceTable } from '../providers/pricing.js';
import { PROVIDER_IDS, type ProviderOptions } from '../providers/registry.js';
import { integer, oneOf } from './parsers.js';

export interface ProviderFlags {
  provider: string;
  config?: string;
  /** The price table, with the config file's overrides (set by the config hook). */
  priceTable?: PriceTable;
  model?: string;
  baseUrl?: string;
  detail?: 'low' | 'high' | 'auto';
  imggoPattern?: string;
  rpm?: number;
  tpm?: number;
  limiter?: string;
  maxAttempts?: number;
  maxRetryWait?: number;
}

export const KEY_ENV = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
  imggo: 'IMGGO_API_KEY',
} as const;

/**
 * Fills every option the command line left at its default from the config file
 * (flag > config > default), and keeps the price overrides for the command.
 */
export async function applyConfig(command: Command): Promise<void> {
  const explicit = command.getOptionValue('config') as string | undefined;
  const { config } = await loadConfig(explicit);
  for (const [key, value] of Object.entries(config)) {
    if (key === 'prices') continue;
    const known = command.options.some((option) => option.attributeName() === key);
    const source = command.getOptionValueSource(key);
    if (known && (source === undefined || source === 'default'))
      command.setOptionValueWithSource(key, value, 'config');
  }
  command.setOptionValueWithSource('priceTable', loadPriceTable(config.prices), 'config');
}

export function addProviderOptions(command: Command): Command {
  command.hook('preAction', (thisCommand) => applyConfig(thisCommand));
  return command
    .option(
      '--config <file>',
      'config file with defaults for these flags (default: ./visionpipe.config.yaml if present)',
    )
    .option('--provider <id>', `provider: ${PROVIDER_IDS.join(', ')}`, 'local')
    .option('-m, --model <name>', "model (default: the provider's)")
    .option(
      '--base-url <url>',
      'API base URL: any OpenAI-compatible server (vLLM, Ollama, LM Studio, OpenRouter, gateways)',
    )
    .option(
      '--detail <level>',
      'OpenAI image detail: low, high or auto',
      oneOf(['low', 'high', 'auto'] as const),
    )
    .option('--imggo-pattern <id>', 'ImgGo: the remote pattern id images are ingested into')
    .option('--rpm <n>', 'requests per minute allowed by your plan (paced smoothly)', integer(1))
    .option('--tpm <n>', 'tokens per minute allowed by your plan', integer(1))
    .option('--limiter <store>', 'where the rate limit is kept: memory or redis://… (shared by processes)')
    .option('--max-attempts <n>', 'attempts per image for retryable failures', integer(1, 20))
    .option(
      '--max-retry-wait <duration>',
      'give up retrying an image after waiting this long (e.g. 2m)',
      (v) => parseDuration(v, '--max-retry-wait'),
    );
}

/**
 * Options per provider. --base-url belongs to --provider only; `extraBaseUrls` gives other
 * providers theirs (the triage and escalation models).
 */
export function providerOptionsFrom(
  flags: ProviderFlags,
  extraBaseUrls: Record<string, string> = {},
): ProviderOptions {
  const baseUrls: Record<string, string> = {
    ...extraBaseUrls,
    ...(flags.baseUrl ? { [flags.provider]: flags.baseUrl } : {}),
  };
  const base = (id: string) => (baseUrls[id] ? { baseUrl: baseUrls[id] } : {});
  return {
    openai: { ...base('openai'), ...(flags.detail ? { detail: flags.detail } : {}) },
    anthropic: base('anthropic'),
    gemini: base('gemini'),
    imggo: { ...base('imggo'), ...(flags.imggoPattern ? { imggoPatternId: flags.imggoPattern } : {}) },
  } as ProviderOptions;
}

/** A limiter when a limit is given (memory unless --limiter names Redis), else none. */
export function limiterFrom(flags: ProviderFlags, onWarning: (message: string) => void): Limiter | undefined {
  if (flags.rpm === undefined && flags.tpm === undefined) return undefined;
  return createLimiter(flags.limiter, {
    ...(flags.rpm === undefined ? {} : { rpm: flags.rpm }),
    ...(flags.tpm === undefined ? {} : { tpm: flags.tpm }),
    onWarning,
  });
}

export function retryFrom(flags: ProviderFlags): Omit<RetryOptions, 'signal'> | undefined {
  if (flags.maxAttempts === undefined && flags.maxRetryWait === undefined) return undefined;
  return {
    ...(flags.maxAttempts === undefined ? {} : { maxAttempts: flags.maxAttempts }),
    ...(flags.maxRetryWait === undefined ? {} : { maxTotalWaitMs: flags.maxRetryWait }),
  };
}

/** Sensible parallelism: local OCR is CPU-bound; remote calls wait on the network. */
export function defaultConcurrencyFor(provider: string, cores: number): number {
  return provider === 'local' ? cores : 10;
}
