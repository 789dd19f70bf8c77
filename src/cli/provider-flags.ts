/**
 * Provider and flow-control flags shared by every command that calls a provider
 * (run, estimate, bench concurrency): which backend and model, where it lives, and how
 * calls are paced and retried. API keys never come from flags: only the environment.
 * Declarations only, loaded at start-up: turning the flags into settings is
 * provider-settings.ts, loaded when a command runs.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { checkLimiterSpec } from '../flow/limiter-spec.js';
import { RETRY_DEFAULTS } from '../flow/retry.js';
import { PROVIDER_IDS } from '../providers/ids.js';
import type { PriceTable } from '../providers/pricing.js';
import { durationOption, durationText } from './duration-flag.js';
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

export function addProviderOptions(command: Command): Command {
  command.hook('preAction', async (thisCommand) =>
    (await import('./provider-settings.js')).applyConfig(thisCommand),
  );
  return command
    .addOption(
      new Option(
        '--config <file>',
        'config file with defaults for these flags (default: ./visionpipe.config.yaml if present)',
      ).env('VISIONPIPE_CONFIG'),
    )
    .option('--provider <id>', `provider: ${PROVIDER_IDS.join(', ')}`, 'local')
    .option('-m, --model <name>', "model (default: the provider's)")
    .option(
      '--base-url <url>',
      'API base URL: any OpenAI-compatible server (vLLM, Ollama, LM Studio, OpenRouter, gateways)',
    )
    .option(
      '--detail <level>',
      'OpenAI image detail: low, high or auto (default: high)',
      oneOf(['low', 'high', 'auto'] as const),
    )
    .option('--imggo-pattern <id>', 'ImgGo: the remote pattern id images are ingested into')
    .option('--rpm <n>', 'requests per minute allowed by your plan (paced smoothly)', integer(1))
    .option('--tpm <n>', 'tokens per minute allowed by your plan', integer(1))
    .option(
      '--limiter <store>',
      'where the rate limit is kept: memory or redis://… (shared by processes)',
      limiterArg,
    )
    .option(
      '--max-attempts <n>',
      `attempts per image for retryable failures (default ${RETRY_DEFAULTS.maxAttempts})`,
      integer(1, 20),
    )
    .addOption(
      durationOption(
        '--max-retry-wait',
        `per image: the most its calls wait in all to be sent again after 429/overloaded answers (Retry-After, pauses; the record's rate_limited.wait_ms never passes it), then it fails RATE_LIMITED, and for an outage's open circuit breaker, then it fails CIRCUIT_OPEN; also caps each call's backoff before retrying errors (default ${durationText(RETRY_DEFAULTS.maxTotalWaitMs)})`,
      ),
    );
}

/** Parses --limiter whether or not --rpm/--tpm use it: a typo is a usage error (exit 2) now. */
function limiterArg(value: string): string {
  try {
    return checkLimiterSpec(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}
