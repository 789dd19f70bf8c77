/**
 * Flags of the commands that run workers (`worker`, and `serve` for its in-process
 * workers): the provider flags `run` takes, plus the cache, the pipeline's limits and
 * how fast a dead worker's jobs move elsewhere.
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { parseDuration } from '../config/durations.js';
import { VisionpipeError } from '../errors.js';
import { isProfileName, PROFILE_NAMES, type ProfileName } from '../image/profiles.js';
import { defaultConcurrency } from '../image/tuning.js';
import type { FleetSettings } from '../queue/fleet.js';
import { integer } from './parsers.js';
import {
  addProviderOptions,
  defaultConcurrencyFor,
  type ProviderFlags,
  providerOptionsFrom,
  retryFrom,
} from './provider-flags.js';
import { type ConnectionFlags, connectionSettings } from './service-flags.js';

export interface WorkerFlags extends ConnectionFlags, ProviderFlags {
  concurrency?: number;
  profile?: string;
  cache?: string;
  cacheTtl: number;
  stateDir: string;
  timeout: number;
  maxImageTokens?: number;
  lockDuration: number;
  stalledInterval: number;
}

const duration = (option: string) => (value: string) => parseDuration(value, option);

/** Flags that decide how a worker runs the pipeline (serve --workers N takes them too). */
export function addWorkerOptions(command: Command): Command {
  addProviderOptions(command);
  return command
    .option(
      '-c, --concurrency <n>',
      'images each worker reads at once (default: CPU cores for local, 10 for APIs)',
      integer(1, 256),
    )
    .option('--profile <name>', `size profile override: ${PROFILE_NAMES.join(', ')}`)
    .option('--max-image-tokens <n>', 'image-token budget per image', integer(1))
    .option('--cache <store>', 'result cache shared by the workers (default: the Redis of --redis-url)')
    .option(
      '--cache-ttl <duration>',
      'how long cached results live in Redis',
      duration('--cache-ttl'),
      7 * 86_400_000,
    )
    .option('--state-dir <dir>', "folder for the cache's local fallback", '.visionpipe')
    .option('--timeout <ms>', 'per-call provider timeout', integer(1), 120_000)
    .addOption(
      new Option(
        '--lock-duration <duration>',
        "how long a job stays its worker's without a heartbeat: a killed worker's jobs run elsewhere after it",
      )
        .argParser(duration('--lock-duration'))
        .default(30_000, '30s'),
    )
    .addOption(
      new Option('--stalled-interval <duration>', 'how often workers look for jobs whose worker died')
        .argParser(duration('--stalled-interval'))
        .default(30_000, '30s'),
    );
}

function profileOf(name: string | undefined): ProfileName | undefined {
  if (name === undefined) return undefined;
  if (isProfileName(name)) return name;
  throw new VisionpipeError(
    'INVALID_OPTION',
    `--profile "${name}" is not a profile; choose one of ${PROFILE_NAMES.join(', ')}`,
    { option: 'profile' },
  );
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
        ...(flags.priceTable ? { priceTable: flags.priceTable } : {}),
        warn: (message) => log(`warning: ${message}`),
      },
    },
  };
}
