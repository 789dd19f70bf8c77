/**
 * Flags of the commands that run workers (`worker`, and `serve` for its in-process
 * workers): the provider flags `run` takes, plus the cache, the pipeline's limits and
 * how fast a dead worker's jobs move elsewhere. Declarations only: worker-settings.ts
 * turns them into the fleet's settings when the command runs.
 */
import { type Command, Option } from 'commander';
import { PROFILE_NAMES } from '../image/profiles.js';
import { durationOption } from './duration-flag.js';
import { integer } from './parsers.js';
import { addProviderOptions, type ProviderFlags } from './provider-flags.js';
import type { ConnectionFlags } from './service-flags.js';

/** The webhook retry schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h. */
export const DEFAULT_WEBHOOK_RETRIES = '5s,5m,30m,2h,5h,10h,24h';

export interface WorkerFlags extends ConnectionFlags, ProviderFlags {
  concurrency?: number;
  profile?: string;
  cache?: string;
  cacheTtl: number;
  stateDir: string;
  timeout: number;
  maxImageTokens?: number;
  maxPages?: number;
  lockDuration: number;
  stalledInterval: number;
  allowPrivateUrls?: boolean;
  webhookRetries: string;
  webhookTimeout: number;
  webhookSecret?: string;
}

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
    .option(
      '--max-pages <n>',
      'most pages one document (PDF, multi-page TIFF) may have: ingest refuses more, workers fail it; default 50',
      integer(1),
    )
    .option('--cache <store>', 'result cache shared by the workers (default: the Redis of --redis-url)')
    .addOption(durationOption('--cache-ttl', 'how long cached results live in Redis', 7 * 86_400_000))
    .option('--state-dir <dir>', "folder for the cache's local fallback", '.visionpipe')
    .addOption(durationOption('--timeout', 'per-call provider timeout', 120_000, 1))
    .addOption(
      durationOption(
        '--lock-duration',
        "how long a job (and its cache claim) stays its worker's without a heartbeat: a killed worker's jobs run elsewhere after it",
        30_000,
      ),
    )
    .addOption(
      durationOption('--stalled-interval', 'how often workers look for jobs whose worker died', 30_000),
    )
    .option('--allow-private-urls', 'let image_url and webhook URLs reach loopback and private addresses')
    .option(
      '--webhook-retries <delays>',
      'waits between webhook attempts (each ±20 %); after the last, one more attempt',
      DEFAULT_WEBHOOK_RETRIES,
    )
    .addOption(durationOption('--webhook-timeout', 'time a webhook receiver has to answer', 15_000))
    .addOption(
      new Option(
        '--webhook-secret <secret>',
        "signs webhooks sent to an ingest's or a pattern's webhook_url (registered endpoints have their own)",
      ).env('VISIONPIPE_WEBHOOK_SECRET'),
    );
}
