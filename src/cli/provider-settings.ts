/**
 * The provider flags (provider-flags.ts) turned into what the pipeline takes: the config
 * file's defaults, options per provider, the limiter and the retry policy. Loaded when a
 * command runs, since it brings the config loader, the limiters and the price table.
 */
import type { Command } from 'commander';
import { loadConfig } from '../config/file.js';
import { checkImplicitConfig, implicitPrices } from '../config/implicit.js';
import { VisionpipeError } from '../errors.js';
import { createLimiter } from '../flow/create-limiter.js';
import type { Limiter } from '../flow/limiter.js';
import { checkLimiterSpec } from '../flow/limiter-spec.js';
import type { RetryOptions } from '../flow/retry.js';
import { providerAccount } from '../providers/account.js';
import { providerNamedBy } from '../providers/ids.js';
import { loadPriceTable } from '../providers/pricing.js';
import type { ProviderOptions } from '../providers/registry.js';
import type { ProviderFlags } from './provider-flags.js';

/**
 * Fills every option the command line left at its default from the config file
 * (flag > config > default), and keeps the price overrides for the command.
 */
export async function applyConfig(command: Command): Promise<void> {
  // An empty environment variable (`DATABASE_URL=`) is unset, as shells and compose files mean it.
  for (const option of command.options) {
    const key = option.attributeName();
    if (command.getOptionValueSource(key) === 'env' && command.getOptionValue(key) === '')
      command.setOptionValueWithSource(key, option.defaultValue, 'default');
  }
  const explicit = command.getOptionValue('config') as string | undefined;
  const { config, file } = await loadConfig(explicit);
  const implicit = file !== undefined && explicit === undefined;
  if (implicit) {
    // Found, not named: announced, and it may not redirect a key to another endpoint (implicit.ts).
    const given = (key: string) =>
      command.getOptionValueSource(key) === 'cli' ? (command.getOptionValue(key) as string) : undefined;
    // A setting the command line or the environment gave is used instead of the file's.
    const confirmed = (key: string) => {
      const source = command.getOptionValueSource(key);
      return (source === 'cli' || source === 'env') && command.getOptionValue(key) !== undefined;
    };
    const uses = (key: string) => command.options.some((option) => option.attributeName() === key);
    // The providers a routes file named by the found config would send images to.
    const routeProviders =
      config.route !== undefined && uses('route') && !confirmed('route')
        ? await (await import('../runs/routes.js')).routeProvidersOf(config.route)
        : [];
    const check = {
      config,
      file,
      baseUrlFlag: given('baseUrl'),
      providerFlag: given('provider'),
      given: confirmed,
      uses,
      // estimate counts tokens and calls nobody.
      sends: command.name() !== 'estimate',
      routeProviders,
    };
    process.stderr.write(`${checkImplicitConfig(check)}\n`);
  }
  for (const [key, value] of Object.entries(config)) {
    if (key === 'prices') continue;
    const known = command.options.some((option) => option.attributeName() === key);
    const source = command.getOptionValueSource(key);
    if (known && (source === undefined || source === 'default'))
      command.setOptionValueWithSource(key, value, 'config');
  }
  checkModelProvider(command, file ?? explicit);
  // A found file's prices may not lower the built-in ones the budget guard uses (implicit.ts).
  const prices =
    implicit && config.prices !== undefined ? implicitPrices(config.prices).overrides : config.prices;
  command.setOptionValueWithSource('priceTable', loadPriceTable(prices), 'config');
  // A limiter from the file is checked as the flag is, used or not (a typo is exit 2 now).
  const limiter = command.getOptionValue('limiter') as unknown;
  if (typeof limiter === 'string' && command.getOptionValueSource('limiter') === 'config')
    checkLimiterSpec(limiter, `limiter (${file ?? explicit ?? 'config file'})`);
}

/**
 * A model written `provider:model` (the form --triage and --escalate-to take) with
 * --provider: the same provider is the model's name without the prefix; another provider is
 * INVALID_OPTION naming both (a planted `provider: local` + `model: openai:gpt-4o` ran the
 * local engine and labelled its records `local/openai:gpt-4o`). The same for flags, the
 * environment and the config file, named or found.
 */
function checkModelProvider(command: Command, file: string | undefined): void {
  const model = command.getOptionValue('model') as unknown;
  const provider = command.getOptionValue('provider') as unknown;
  if (typeof model !== 'string' || typeof provider !== 'string') return;
  const named = providerNamedBy(model);
  if (named === undefined) return;
  const bare = model.slice(model.indexOf(':') + 1).trim();
  if (named === provider) {
    command.setOptionValueWithSource('model', bare, command.getOptionValueSource('model'));
    return;
  }
  const from = (key: string) => {
    const source = command.getOptionValueSource(key);
    if (source === 'config') return ` (from ${file ?? 'the config file'})`;
    if (source === 'env') return ' (from the environment)';
    return source === 'cli' ? '' : ' (the default)';
  };
  throw new VisionpipeError(
    'INVALID_OPTION',
    `model "${model}"${from('model')} names provider ${named}, but the provider is ${provider}${from('provider')}: ` +
      `${provider} would read the images under another provider's model name. ` +
      `Use --provider ${named} --model ${bare}, or a ${provider} model`,
    { option: 'model' },
  );
}

/**
 * Options per provider. --base-url belongs to --provider only; the triage and escalation
 * steps get theirs per step (PipelineSet.provider with a baseUrl), not per provider id.
 */
export function providerOptionsFrom(flags: ProviderFlags): ProviderOptions {
  const baseUrls: Record<string, string> = flags.baseUrl ? { [flags.provider]: flags.baseUrl } : {};
  const base = (id: string) => (baseUrls[id] ? { baseUrl: baseUrls[id] } : {});
  return {
    openai: { ...base('openai'), ...(flags.detail ? { detail: flags.detail } : {}) },
    anthropic: base('anthropic'),
    gemini: base('gemini'),
    imggo: { ...base('imggo'), ...(flags.imggoPattern ? { imggoPatternId: flags.imggoPattern } : {}) },
  } as ProviderOptions;
}

/**
 * A limiter when a limit is given (memory unless --limiter names Redis), or when
 * --limiter names Redis without a limit: the processes sharing it then share the pauses
 * their adaptive flows impose on a throttle, and each counts the others' calls against
 * the budget headers. Else none: the adaptive flow alone.
 */
export function limiterFrom(flags: ProviderFlags, onWarning: (message: string) => void): Limiter | undefined {
  const shared = flags.limiter !== undefined && /^rediss?:/i.test(flags.limiter.trim());
  if (flags.rpm === undefined && flags.tpm === undefined && !shared) return undefined;
  return createLimiter(flags.limiter, {
    name: limiterAccount(flags),
    ...(flags.rpm === undefined ? {} : { rpm: flags.rpm }),
    ...(flags.tpm === undefined ? {} : { tpm: flags.tpm }),
    onWarning,
  });
}

/**
 * The name a run's shared limiter is kept under in Redis: one per provider account
 * (`providerAccount`, src/providers/account.ts), the same name a service worker on that
 * account uses, so a run and a fleet on one key share one budget and nothing else does.
 */
export function limiterAccount(flags: Pick<ProviderFlags, 'provider' | 'baseUrl'>): string {
  return providerAccount({ provider: flags.provider, baseUrl: flags.baseUrl });
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
