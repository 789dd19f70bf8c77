/**
 * Flags every service command (serve, worker, keys, migrate) shares: where PostgreSQL
 * and Redis are. Each setting comes from the flag, else its environment variable
 * (DATABASE_URL, REDIS_URL…), else the config file, else the default; everything is
 * checked before anything starts, and a bad value is named. Light on purpose: the
 * commands load their heavy parts when they run.
 */
import { type Command, Option } from 'commander';
import { checkDatabaseUrl } from '../config/urls.js';
import { VisionpipeError } from '../errors.js';

export interface ConnectionFlags {
  databaseUrl?: string;
  redisUrl?: string;
  queuePrefix: string;
}

/**
 * --database-url (DATABASE_URL) and --config; the config file fills what flags and the
 * environment leave unset.
 */
export function addDatabaseOptions(command: Command, options: { config?: boolean } = {}): Command {
  if (options.config !== false) {
    // The config hook lives with the provider flags; loaded only when the command runs.
    command.hook('preAction', async (thisCommand) =>
      (await import('./provider-settings.js')).applyConfig(thisCommand),
    );
    command.addOption(
      new Option('--config <file>', 'config file (default: ./visionpipe.config.yaml if present)').env(
        'VISIONPIPE_CONFIG',
      ),
    );
  }
  return command.addOption(
    new Option('--database-url <url>', 'PostgreSQL: postgres://user[:password]@host:port/database').env(
      'DATABASE_URL',
    ),
  );
}

/**
 * The database, Redis (REDIS_URL) and the Redis key prefix: what serve and worker need.
 * They take the provider flags too, which bring --config: `config: false` then.
 */
export function addConnectionOptions(command: Command, options: { config?: boolean } = {}): Command {
  return addDatabaseOptions(command, options)
    .addOption(new Option('--redis-url <url>', 'Redis: redis://host:port[/db]').env('REDIS_URL'))
    .addOption(
      new Option('--queue-prefix <prefix>', 'Redis key prefix of the queue, cache and rate limits')
        .env('VISIONPIPE_QUEUE_PREFIX')
        .default('visionpipe'),
    );
}

/** The database URL alone (keys, migrate), checked. */
export function databaseUrlOf(flags: ConnectionFlags): string {
  return checkDatabaseUrl(flags.databaseUrl);
}

const PER: Record<string, number> = {
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/**
 * `600/min`, `20/s`, `5000/h` (or `off`) → requests per interval; throws INVALID_OPTION
 * naming --rate-limit otherwise.
 */
export function parseRateLimit(text: string): { limit: number; intervalMs: number } | undefined {
  if (/^(off|none|0)$/i.test(text.trim())) return undefined;
  const match = /^\s*(\d+)\s*\/\s*([a-z]+)\s*$/i.exec(text);
  const intervalMs = match ? PER[match[2]!.toLowerCase()] : undefined;
  if (!match || intervalMs === undefined || Number(match[1]) < 1) {
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--rate-limit "${text}" must look like 600/min, 20/s, 5000/h or off`,
      {
        option: 'rateLimit',
      },
    );
  }
  return { limit: Number(match[1]), intervalMs };
}

/**
 * `--public-url`: the origin clients reach the API at (`https://vision.example.com`; the
 * API's `/api` is appended to it in job image URLs). Throws INVALID_OPTION naming
 * --public-url for anything but an http(s) URL, or one already ending in `/api`.
 */
export function parsePublicUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--public-url "${text}" must be an http(s) URL such as https://vision.example.com`,
      {
        option: 'publicUrl',
      },
    );
  if (/\/api\/*$/.test(url.pathname))
    throw new VisionpipeError(
      'INVALID_OPTION',
      `--public-url "${text}" must be the URL the API's /api is under, without /api (job image URLs add it)`,
      { option: 'publicUrl' },
    );
  return text;
}

/**
 * Runs `start`, then waits for SIGTERM or SIGINT and drains with `close`: running work
 * finishes, nothing new starts. A second signal exits at once.
 */
export async function runUntilSignal(
  start: () => Promise<{ close(): Promise<void> }>,
  log: (line: string) => void,
): Promise<number> {
  const running = await start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log(`${signal}: draining (finishing work in flight; ${signal} again to stop at once)`);
  const again = () => {
    log('stopped before the drain finished');
    process.exit(1);
  };
  process.once('SIGTERM', again);
  process.once('SIGINT', again);
  await running.close();
  log('drained; bye');
  return 0;
}
