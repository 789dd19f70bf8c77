/**
 * The worker flags (worker-flags.ts) and connection flags (service-flags.ts) turned into
 * the settings of this process's workers, every one checked and a bad one named. Loaded
 * when `serve` or `worker` runs: it brings zod and the provider settings.
 */
import path from 'node:path';
import { z } from 'zod';
import { didYouMean } from '../config/did-you-mean.js';
import { checkDatabaseUrl, checkRedisUrl } from '../config/urls.js';
import { parseOptions } from '../config/validate.js';
import { VisionpipeError } from '../errors.js';
import { defaultConcurrency } from '../image/parallelism.js';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../image/profiles.js';
import type { FleetSettings } from '../queue/fleet.js';
import { DELIVERY_TIMEOUT_BOUNDS_MS } from '../webhooks/deliver.js';
import type { DispatcherSettings } from '../webhooks/dispatcher.js';
import { parseSchedule } from '../webhooks/schedule.js';
import { durationText } from './duration-flag.js';
import { defaultConcurrencyFor, providerOptionsFrom, retryFrom } from './provider-settings.js';
import type { ConnectionFlags } from './service-flags.js';
import type { WorkerFlags } from './worker-flags.js';

const prefixSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores');

/** Checks the connection settings (presence and form), naming the bad one. */
export function connectionSettings(flags: ConnectionFlags) {
  return {
    databaseUrl: checkDatabaseUrl(flags.databaseUrl),
    redisUrl: checkRedisUrl(flags.redisUrl),
    prefix: parseOptions(z.object({ queuePrefix: prefixSchema }), flags, 'setting').queuePrefix,
  };
}

function profileOf(name: string | undefined): ProfileName | undefined {
  if (name === undefined) return undefined;
  if (isProfileName(name)) return name;
  throw new VisionpipeError(
    'INVALID_OPTION',
    `--profile "${name}" is not a profile; choose one of ${PROFILE_NAMES.join(', ')}.${didYouMean(name, PROFILE_NAMES)}`,
    { option: 'profile' },
  );
}

function webhookSettingsFrom(flags: WorkerFlags): Partial<DispatcherSettings> {
  // Checked here rather than in the flag's parser: a config file's webhookTimeout comes here too.
  const { min, max } = DELIVERY_TIMEOUT_BOUNDS_MS;
  if (!(flags.webhookTimeout >= min && flags.webhookTimeout <= max))
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--webhook-timeout ${durationText(flags.webhookTimeout)}: must be between 1s and 1m`,
      { option: '--webhook-timeout' },
    );
  const secret = flags.webhookSecret === '' ? undefined : flags.webhookSecret;
  return {
    schedule: { delaysMs: parseSchedule(flags.webhookRetries), jitter: 0.2 },
    timeoutMs: flags.webhookTimeout,
    allowPrivate: flags.allowPrivateUrls ?? false,
    ...(secret === undefined ? {} : { secret }),
  };
}

/** The settings of this process's workers, from the flags. */
export function fleetSettingsFrom(
  flags: WorkerFlags,
  count: number,
  log: (line: string) => void,
): { databaseUrl: string; redisUrl: string; fleet: FleetSettings } {
  const { databaseUrl, redisUrl, prefix } = connectionSettings(flags);
  const retry = retryFrom(flags);
  const profile = profileOf(flags.profile);
  return {
    databaseUrl,
    redisUrl,
    fleet: {
      count,
      concurrency: flags.concurrency ?? defaultConcurrencyFor(flags.provider, defaultConcurrency()),
      prefix,
      lockDurationMs: flags.lockDuration,
      stalledIntervalMs: flags.stalledInterval,
      webhooks: webhookSettingsFrom(flags),
      log,
      engine: {
        provider: flags.provider,
        providerOptions: providerOptionsFrom(flags),
        ...(flags.model ? { model: flags.model } : {}),
        ...(profile ? { profile } : {}),
        cache: flags.cache ?? redisUrl,
        cacheNamespace: `${prefix}:cache:`,
        cacheTtlMs: flags.cacheTtl,
        stateDir: path.resolve(flags.stateDir),
        ...(flags.rpm === undefined ? {} : { rpm: flags.rpm }),
        ...(flags.tpm === undefined ? {} : { tpm: flags.tpm }),
        limiterStore: flags.limiter ?? redisUrl,
        limiterPrefix: `${prefix}:limiter`,
        ...(retry ? { retry } : {}),
        timeoutMs: flags.timeout,
        ...(flags.maxImageTokens === undefined ? {} : { maxImageTokens: flags.maxImageTokens }),
        ...(flags.maxPages === undefined ? {} : { maxPages: flags.maxPages }),
        ...(flags.priceTable ? { priceTable: flags.priceTable } : {}),
        warn: (message) => log(`warning: ${message}`),
      },
    },
  };
}
