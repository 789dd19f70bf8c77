/**
 * `visionpipe serve`: the ImgGo-compatible API, with `--workers N` in-process workers
 * (one command, a complete service on one machine). Its workers and the `visionpipe
 * worker` processes of other machines share the queue, the cache and the rate limit.
 */
import { Command, Option } from 'commander';
import { integer, sizeOption } from './parsers.js';
import { addConnectionOptions, parsePublicUrl, parseRateLimit, runUntilSignal } from './service-flags.js';
import { addWorkerOptions, type WorkerFlags } from './worker-flags.js';

interface ServeFlags extends WorkerFlags {
  host: string;
  port: number;
  workers: number;
  /** JSON text (flag, environment) or an object (config file). */
  modelProfiles?: unknown;
  maxUploadBytes: number;
  rateLimit: string;
  publicUrl?: string;
}

const EXAMPLES = `
Examples:
  $ export DATABASE_URL=postgres://postgres@127.0.0.1:5432/visionpipe REDIS_URL=redis://127.0.0.1:6379
  $ visionpipe keys create --name laptop --scopes patterns:read,patterns:write,patterns:ingest,jobs:read
  $ visionpipe serve --workers 2                        # the local OCR engine, API on 127.0.0.1:8080
  $ OPENAI_API_KEY=… visionpipe serve --provider openai --model gpt-4.1-mini --rpm 500 --workers 2
  $ visionpipe serve --host 0.0.0.0 --workers 0          # the API alone; workers run elsewhere

ImgGo's clients talk to it unchanged with base URL http://HOST:PORT/api (IMGGO_BASE_URL).
Migrations run at start-up. SIGTERM (or Ctrl-C) stops taking requests and jobs, finishes
those in flight, then exits; a second one exits at once. Details: docs/service.md.`;

export function serveCommand(): Command {
  const command = new Command('serve')
    .description('Run the ImgGo-compatible HTTP API (and --workers N workers) on PostgreSQL and Redis')
    .addOption(new Option('--host <host>', 'address to listen on').env('HOST').default('127.0.0.1'))
    .addOption(
      new Option('--port <n>', 'port (0: a free one)')
        .env('PORT')
        .default(8080)
        .argParser(integer(0, 65_535)),
    )
    .option('--workers <n>', 'workers in this process (0: the API only)', integer(0, 64), 1)
    .addOption(sizeOption('--max-upload-bytes', 'largest image accepted (upload, base64 or URL)', 10_000_000))
    .option('--rate-limit <rate>', 'requests per API key: 600/min, 20/s, off', '600/min')
    .option('--public-url <url>', 'the URL clients reach this API at (default: from the Host header)')
    .addOption(
      new Option(
        '--model-profiles <json>',
        'model profiles patterns may name: {"name": {"id": "openai", "model": "…", "baseUrl": "…"}}',
      ).env('VISIONPIPE_MODEL_PROFILES'),
    )
    .addHelpText('after', EXAMPLES);
  addConnectionOptions(command, { config: false });
  addWorkerOptions(command);
  return command.action(async (flags: ServeFlags) => {
    const rateLimit = parseRateLimit(flags.rateLimit);
    const publicUrl = flags.publicUrl === undefined ? undefined : parsePublicUrl(flags.publicUrl);
    const { parseModelProfiles } = await import('../service/model-profiles.js');
    const modelProfiles =
      flags.modelProfiles === undefined ? undefined : parseModelProfiles(flags.modelProfiles);
    const { createServiceLog } = await import('../metrics/log.js');
    const serviceLog = createServiceLog('serve');
    const log = serviceLog.line;
    const { fleetSettingsFrom } = await import('./worker-settings.js');
    const { databaseUrl, redisUrl, fleet } = fleetSettingsFrom(flags, flags.workers, log);
    const { startService } = await import('../service/start.js');
    process.exitCode = await runUntilSignal(async () => {
      const service = await startService({
        databaseUrl,
        redisUrl,
        host: flags.host,
        port: flags.port,
        api: {
          maxUploadBytes: flags.maxUploadBytes,
          allowPrivateUrls: flags.allowPrivateUrls ?? false,
          ...(flags.maxPages === undefined ? {} : { maxPages: flags.maxPages }),
          ...(publicUrl ? { publicUrl } : {}),
          ...(modelProfiles ? { modelProfiles } : {}),
        },
        ...(rateLimit ? { rateLimit } : {}),
        fleet,
        log,
        logger: serviceLog.logger,
      });
      serviceLog.logger.info(
        { event: 'serve.listening', url: `${service.url}/api` },
        `visionpipe serve: ${service.url}/api (${service.workers} worker${service.workers === 1 ? '' : 's'}, provider ${flags.provider})`,
      );
      return service;
    }, log);
  });
}
