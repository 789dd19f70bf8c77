/**
 * A whole service for tests, in process: its own PostgreSQL database, its own Redis key
 * prefix (queue, cache, rate limits) on the shared Redis, the API on a free loopback
 * port and in-process workers; `key(scopes)` mints API keys. Everything is removed by
 * close(), so parallel runs never meet.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { ProviderOptions } from '../../src/providers/registry.js';
import type { ReconcilerSettings } from '../../src/queue/reconciler.js';
import type { ModelProfiles } from '../../src/service/model-profiles.js';
import { type RunningService, startService } from '../../src/service/start.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { DispatcherSettings } from '../../src/webhooks/dispatcher.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestServiceOptions {
  provider?: string;
  providerOptions?: ProviderOptions;
  workers?: number;
  concurrency?: number;
  maxUploadBytes?: number;
  /** Most pages per document, at ingest and in the workers (default 50). */
  maxPages?: number;
  rateLimit?: { limit: number; intervalMs: number };
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Another Redis (a private one a test stops and starts). */
  redisUrl?: string;
  /** The API's address guard for image and webhook URLs (default: private allowed, receivers are on loopback). */
  allowPrivateUrls?: boolean;
  /** Webhook dispatcher settings (default: private addresses allowed, 50 ms polls). */
  webhooks?: Partial<DispatcherSettings> | false;
  /** Re-queueing of work Redis lost (default: the service's). */
  reconcile?: Partial<ReconcilerSettings> | false;
  /** Named model profiles patterns may use (serve --model-profiles). */
  modelProfiles?: ModelProfiles;
  /** Reuse a database and prefix (a second service on the same state). */
  shared?: { database: TestDatabase; prefix: string };
}

export interface TestService {
  url: string;
  /** What ImgGo clients take as their base URL. */
  api: string;
  prefix: string;
  database: TestDatabase;
  store: Store;
  service: RunningService;
  logs: string[];
  key(scopes?: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Deletes every Redis key under a prefix (SCAN, not KEYS: the server is shared). */
export async function clearRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const database = options.shared?.database ?? (await createTestDatabase('service'));
  const prefix = options.shared?.prefix ?? `vpt-${process.pid}-${randomBytes(4).toString('hex')}`;
  const stateDir = await mkdtemp(path.join(tmpdir(), 'vp-service-'));
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const provider = options.provider ?? 'local';
  const redisUrl = options.redisUrl ?? REDIS_URL;
  const service = await startService({
    databaseUrl: database.url,
    redisUrl,
    host: '127.0.0.1',
    port: 0,
    api: {
      maxUploadBytes: options.maxUploadBytes ?? 10_000_000,
      allowPrivateUrls: options.allowPrivateUrls ?? true,
      ...(options.maxPages === undefined ? {} : { maxPages: options.maxPages }),
      ...(options.modelProfiles ? { modelProfiles: options.modelProfiles } : {}),
    },
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    fleet: {
      count: options.workers ?? 1,
      concurrency: options.concurrency ?? 2,
      prefix,
      lockDurationMs: options.lockDurationMs ?? 30_000,
      stalledIntervalMs: options.stalledIntervalMs ?? 30_000,
      webhooks: options.webhooks ?? { allowPrivate: true, pollMs: 50 },
      ...(options.reconcile === undefined ? {} : { reconcile: options.reconcile }),
      log,
      engine: {
        provider,
        providerOptions: options.providerOptions ?? {},
        cache: redisUrl,
        cacheNamespace: `${prefix}:cache:`,
        cacheTtlMs: 3_600_000,
        stateDir,
        limiterStore: redisUrl,
        limiterPrefix: `${prefix}:limiter`,
        warn: log,
        ...(options.maxPages === undefined ? {} : { maxPages: options.maxPages }),
      },
    },
    log,
  });
  const store = await openStore({ url: database.url, migrate: false, poolSize: 2 });
  return {
    url: service.url,
    api: `${service.url}/api`,
    prefix,
    database,
    store,
    service,
    logs,
    key: async (scopes = ['admin:all']) => (await store.keys.create({ name: 'test', scopes })).key,
    async close() {
      await service.close();
      await store.close();
      if (!options.shared) {
        await database.drop();
        if (redisUrl === REDIS_URL) await clearRedisPrefix(prefix);
      }
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
