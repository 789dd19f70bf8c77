/**
 * `GET /_health`: liveness, in ImgGo's HealthResponse shape. It answers 200 while the
 * process serves, and reports each dependency (`degraded` when one is down): a restart
 * cannot fix a database outage, so liveness must not fail on one. ImgGo's OpenAPI
 * answers 503 when degraded; `/_ready` is the check that does.
 *
 * `GET /_ready`: readiness: the database answers with the current schema, Redis
 * answers, and at least one worker (on any machine) takes jobs from this API's queue (same
 * Redis database, prefix and queue name: IngestQueue.workers). 200 or 503.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../app.js';
import { within } from '../deadline.js';

const PROBE_MS = 2000;

function probe(check: () => Promise<unknown>): Promise<boolean> {
  return within(check(), PROBE_MS, 'probe').then(
    () => true,
    () => false,
  );
}

export async function healthRoutes(app: FastifyInstance, context: RouteContext): Promise<void> {
  const { store, redis, queue } = context;
  const probes = () => Promise.all([probe(() => store.ping()), probe(() => redis.ping())]);

  app.get('/_health', async () => {
    const [database, queueUp] = await probes();
    const up = (ok: boolean) => (ok ? 'up' : 'down');
    return {
      status: database && queueUp ? 'healthy' : database || queueUp ? 'degraded' : 'unhealthy',
      timestamp: new Date().toISOString(),
      services: { database: up(database), storage: up(database), queue: up(queueUp) },
    };
  });

  app.get('/_ready', async (_request, reply) => {
    const [database, redisUp] = await probes();
    let pending: string[] | undefined;
    let workers = 0;
    if (database) await probe(async () => (pending = await store.pending()));
    if (redisUp) await probe(async () => (workers = await queue.workers()));
    const ready = database && redisUp && pending?.length === 0 && workers > 0;
    reply.status(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'not_ready',
      timestamp: new Date().toISOString(),
      checks: {
        database: database ? 'up' : 'down',
        redis: redisUp ? 'up' : 'down',
        migrations:
          pending === undefined
            ? 'unknown'
            : pending.length === 0
              ? 'current'
              : `pending: ${pending.join(', ')}`,
        workers,
      },
    };
  });
}
