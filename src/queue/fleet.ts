/**
 * A process's workers: `visionpipe worker` runs one fleet, `visionpipe serve --workers N`
 * runs N beside the API. The workers of one process share one engine (provider, cache,
 * limiter, pipelines); processes on other machines share Redis and PostgreSQL.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Store } from '../store/index.js';
import type { DispatcherSettings } from '../webhooks/dispatcher.js';
import { type EngineSettings, openEngine } from './engine.js';
import type { ReconcilerSettings } from './reconciler.js';
import { type IngestWorker, startIngestWorker } from './worker.js';

export interface FleetSettings {
  /** BullMQ workers in this process. */
  count: number;
  /** Jobs each worker runs at once. */
  concurrency: number;
  prefix: string;
  /** How long a job stays its worker's without a renewal, ms; also the lease of its cache claims. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  engine: EngineSettings;
  /**
   * The webhook dispatcher every serve and worker process runs (defaults: the 5 s … 24 h
   * schedule, 15 s timeout, public addresses only); false: this process sends none.
   */
  webhooks?: Partial<DispatcherSettings> | false;
  /** Re-queueing of open work that Redis lost (default every 30 s, work idle 60 s); false: off. */
  reconcile?: Partial<ReconcilerSettings> | false;
  log: (line: string) => void;
}

export interface Fleet {
  readonly count: number;
  /** Stops taking jobs, finishes running ones, releases the engine. */
  close(): Promise<void>;
}

export async function startFleet(settings: FleetSettings, store: Store, connection: Redis): Promise<Fleet> {
  // A killed worker's job runs again once its lock expires: its claims on the shared cache
  // (cache/claims.ts) expire then too, so the re-run waits no longer than the lock says.
  const engine = await openEngine({
    ...settings.engine,
    claimLeaseMs: settings.engine.claimLeaseMs ?? settings.lockDurationMs,
  });
  const workers: IngestWorker[] = [];
  for (let i = 0; i < settings.count; i++) {
    workers.push(
      startIngestWorker({
        connection,
        prefix: settings.prefix,
        store,
        pipelines: engine.pipelines,
        concurrency: settings.concurrency,
        lockDurationMs: settings.lockDurationMs,
        stalledIntervalMs: settings.stalledIntervalMs,
        name: `${hostname()}:${process.pid}:${i + 1}`,
        log: settings.log,
      }),
    );
  }
  await Promise.all(workers.map((w) => w.worker.waitUntilReady()));
  return {
    count: workers.length,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await engine.close();
    },
  };
}
