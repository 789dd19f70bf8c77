/**
 * `visionpipe worker`: a worker process. Any number of them, on any number of machines,
 * take jobs from the queue that `visionpipe serve` fills and run them through the same
 * pipeline `visionpipe run` uses, sharing the Redis cache and rate limit.
 */
import { Command } from 'commander';
import { integer } from './parsers.js';
import { addConnectionOptions, runUntilSignal } from './service-flags.js';
import { addWorkerOptions, type WorkerFlags } from './worker-flags.js';

const EXAMPLES = `
Examples:
  $ export DATABASE_URL=postgres://db.internal/visionpipe REDIS_URL=redis://redis.internal:6379
  $ visionpipe worker                                   # the local OCR engine, one image per core
  $ OPENAI_API_KEY=… visionpipe worker --provider openai --model gpt-4.1-mini --rpm 500 --concurrency 20

Give every worker and serve the same provider flags (a shared visionpipe.config.yaml does it):
--rpm/--tpm is one budget for all of them, kept in Redis. A worker that dies mid-job loses
nothing: after --lock-duration its job runs on another worker, which finds the answer in
the shared cache if the provider had already answered. SIGTERM finishes running jobs first.`;

export function workerCommand(): Command {
  const command = new Command('worker')
    .description('Run a worker: take ingest jobs from Redis, run the pipeline, store results in PostgreSQL')
    .addHelpText('after', EXAMPLES);
  addConnectionOptions(command, { config: false });
  addWorkerOptions(command);
  command
    .option('--metrics-port <n>', 'serve Prometheus metrics at http://HOST:N/metrics', integer(0, 65_535))
    .option('--metrics-host <host>', 'address for --metrics-port', '127.0.0.1');
  return command.action(async (flags: WorkerFlags & { metricsPort?: number; metricsHost: string }) => {
    const { fleetSettingsFrom } = await import('./worker-settings.js');
    const { createServiceLog } = await import('../metrics/log.js');
    const serviceLog = createServiceLog('worker');
    const log = serviceLog.line;
    const { databaseUrl, redisUrl, fleet } = fleetSettingsFrom(flags, 1, log);
    const { startWorkerProcess } = await import('../queue/start.js');
    process.exitCode = await runUntilSignal(async () => {
      const running = await startWorkerProcess({ databaseUrl, redisUrl, fleet, log });
      if (flags.metricsPort !== undefined) {
        const { createMetrics } = await import('../metrics/prometheus.js');
        const { serveMetrics } = await import('../metrics/serve-metrics.js');
        const metrics = createMetrics();
        const server = await serveMetrics(metrics, flags.metricsPort, flags.metricsHost);
        serviceLog.logger.info(
          { event: 'worker.metrics', url: `${server.url}/metrics` },
          `visionpipe worker: metrics at ${server.url}/metrics`,
        );
        return {
          close: async () => {
            await running.close();
            await server.close();
            metrics.close();
          },
        };
      }
      serviceLog.logger.info(
        { event: 'worker.ready', concurrency: fleet.concurrency, provider: fleet.engine.provider },
        `visionpipe worker: taking jobs (concurrency ${fleet.concurrency}, provider ${fleet.engine.provider})`,
      );
      return running;
    }, log);
  });
}
