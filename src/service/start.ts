/**
 * `visionpipe serve`, assembled: the store (migrated), Redis, the ingest queue, the
 * per-key rate limit, N in-process workers, the webhook dispatcher, and the HTTP API.
 * close() drains in order:
 * the API stops taking requests and finishes the ones in flight, the workers stop taking
 * jobs and finish theirs, then connections close.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { VisionpipeError } from '../errors.js';
import { createMetrics } from '../metrics/prometheus.js';
import { closeRedis, connectRedis } from '../queue/connection.js';
import { type Fleet, type FleetSettings, startFleet } from '../queue/fleet.js';
import { IngestQueue } from '../queue/ingest-queue.js';
import { startReconciler } from '../queue/reconciler.js';
import { openStore } from '../store/index.js';
import { startDispatcher } from '../webhooks/dispatcher.js';
import { type ApiSettings, buildApi } from './app.js';
import { KeyRateLimiter } from './rate-limit.js';

export interface ServiceSettings {
  databaseUrl: string;
  redisUrl: string;
  host: string;
  /** 0: a free port. */
  port: number;
  api: ApiSettings;
  /** Requests per key per interval; none: unlimited. */
  rateLimit?: { limit: number; intervalMs: number };
  /** In-process workers (count 0: the API only; workers run elsewhere). */
  fleet: FleetSettings;
  log: (line: string) => void;
  /** The pino logger for per-request lines (with the request id); none: no request log. */
  logger?: Logger;
}

export interface RunningService {
  /** Where the API listens, e.g. `http://127.0.0.1:8080`; ImgGo clients take `${url}/api`. */
  readonly url: string;
  readonly workers: number;
  close(): Promise<void>;
}

export async function startService(settings: ServiceSettings): Promise<RunningService> {
  const { log } = settings;
  const store = await openStore({ url: settings.databaseUrl });
  if (store.migrations.applied.length > 0) log(`database: applied ${store.migrations.applied.join(', ')}`);
  const closers: Array<() => Promise<unknown>> = [() => store.close()];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  };
  try {
    // Requests fail fast while Redis is away; workers wait for it to come back.
    const redis = await connectRedis(settings.redisUrl, { failFast: true });
    closers.push(() => closeRedis(redis));
    const queue = new IngestQueue(redis, { prefix: settings.fleet.prefix });
    closers.push(() => queue.close());
    let fleet: Fleet | undefined;
    if (settings.fleet.count > 0) {
      const workerRedis = await connectRedis(settings.redisUrl);
      closers.push(() => closeRedis(workerRedis));
      fleet = await startFleet(settings.fleet, store, workerRedis);
      closers.push(() => fleet!.close());
    }
    const { webhooks, reconcile } = settings.fleet;
    if (reconcile !== false) {
      const reconciler = startReconciler(store, queue, reconcile ?? {}, log);
      closers.push(() => reconciler.close());
    }
    if (webhooks !== false) {
      const dispatcher = startDispatcher(store, webhooks ?? {}, log);
      closers.push(() => dispatcher.close());
    }
    const api = await buildApi({
      store,
      queue,
      redis,
      settings: settings.api,
      ...(settings.logger ? { logger: settings.logger } : {}),
      ...(settings.rateLimit
        ? { rateLimiter: new KeyRateLimiter(redis, { ...settings.rateLimit, prefix: settings.fleet.prefix }) }
        : {}),
      onError: (error, requestId) =>
        log(
          `request ${requestId} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        ),
    });
    // Prometheus: this process's pipeline metrics plus the shared queue's depth (the same
    // for every API replica: aggregate it with max(), not sum()).
    const metrics = createMetrics();
    closers.push(async () => metrics.close());
    metrics.gaugeFromCollect(
      'visionpipe_queue_jobs',
      'Ingest queue jobs by state (shared by every process)',
      ['state'],
      async () => {
        const counts = await queue.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        return Object.entries(counts).map(([state, value]) => ({ labels: { state }, value }));
      },
    );
    api.get('/metrics', async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.expose()),
    );
    await listenOn(api, settings.host, settings.port);
    closers.push(() => api.close());
    const { port } = api.server.address() as AddressInfo;
    const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
    return {
      url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
      workers: fleet?.count ?? 0,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Why an address cannot be listened on, by the socket's error code: the setting to change. */
const LISTEN_PROBLEMS: Record<string, { option: 'host' | 'port'; why: string }> = {
  EADDRINUSE: { option: 'port', why: 'is already in use by another process' },
  EACCES: { option: 'port', why: 'needs privileges this process does not have (ports below 1024)' },
  EADDRNOTAVAIL: { option: 'host', why: 'is not an address of this machine' },
  ENOTFOUND: { option: 'host', why: 'is not a known host name or address' },
  EAI_AGAIN: { option: 'host', why: 'could not be resolved' },
};

/**
 * Listens on host:port; an address that cannot be used is INVALID_OPTION naming --host or
 * --port (a usage error, exit 2), not an internal failure.
 */
async function listenOn(api: FastifyInstance, host: string, port: number): Promise<void> {
  try {
    await api.listen({ host, port });
  } catch (error) {
    const problem = LISTEN_PROBLEMS[String((error as { code?: unknown }).code)];
    if (!problem) throw error;
    const flag = problem.option === 'port' ? `--port ${port}` : `--host ${host}`;
    throw new VisionpipeError('INVALID_OPTION', `${flag}: ${host}:${port} ${problem.why}`, {
      option: problem.option,
    });
  }
}
