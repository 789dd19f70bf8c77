/**
 * `visionpipe worker`, assembled: the store (migrated, so a worker started first still
 * finds its tables), Redis, the fleet, the webhook dispatcher and the re-queueing of
 * work Redis lost. close() drains: running jobs finish first, then deliveries in flight.
 */
import { openStore } from '../store/index.js';
import { startDispatcher } from '../webhooks/dispatcher.js';
import { closeRedis, connectRedis } from './connection.js';
import { type FleetSettings, startFleet } from './fleet.js';
import { IngestQueue } from './ingest-queue.js';
import { startReconciler } from './reconciler.js';

export interface WorkerProcessSettings {
  databaseUrl: string;
  redisUrl: string;
  fleet: FleetSettings;
  log: (line: string) => void;
}

export async function startWorkerProcess(
  settings: WorkerProcessSettings,
): Promise<{ close(): Promise<void> }> {
  const store = await openStore({ url: settings.databaseUrl });
  if (store.migrations.applied.length > 0)
    settings.log(`database: applied ${store.migrations.applied.join(', ')}`);
  try {
    const redis = await connectRedis(settings.redisUrl);
    try {
      const fleet = await startFleet(settings.fleet, store, redis);
      const { webhooks } = settings.fleet;
      const dispatcher =
        webhooks === false ? undefined : startDispatcher(store, webhooks ?? {}, settings.log);
      const { reconcile } = settings.fleet;
      const queue = new IngestQueue(redis, { prefix: settings.fleet.prefix });
      const reconciler =
        reconcile === false ? undefined : startReconciler(store, queue, reconcile ?? {}, settings.log);
      return {
        async close() {
          await reconciler?.close();
          await queue.close();
          await fleet.close();
          await dispatcher?.close();
          await closeRedis(redis);
          await store.close();
        },
      };
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  } catch (error) {
    await store.close();
    throw error;
  }
}
