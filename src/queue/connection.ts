/**
 * Redis connections for BullMQ from `REDIS_URL`. Workers block on Redis, so their
 * connections must never give up on a command (`maxRetriesPerRequest: null`, as BullMQ
 * requires); ioredis reconnects by itself after Redis restarts.
 */
import { Redis } from 'ioredis';
import { checkRedisUrl, redactCredentials } from '../config/urls.js';
import { VisionpipeError } from '../errors.js';

export interface RedisConnectOptions {
  /** How long the first connection may take, ms (default 5000). */
  timeoutMs?: number;
  /**
   * Fail commands at once while Redis is away (for request paths: a queue that adds jobs,
   * a rate limiter) instead of holding them until it is back (what workers need).
   */
  failFast?: boolean;
}

/** A connection for BullMQ queues and workers; resolves once Redis answers, else INVALID_OPTION naming it. */
export async function connectRedis(url: string, options: RedisConnectOptions = {}): Promise<Redis> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const client = new Redis(checkRedisUrl(url), {
    maxRetriesPerRequest: options.failFast ? 1 : null,
    enableOfflineQueue: !options.failFast,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: (times) => Math.min(200 * times, 2000),
  });
  // Errors while connected surface as failed commands and reconnects, not crashes.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (error) {
    client.disconnect();
    throw new VisionpipeError(
      'INVALID_OPTION',
      `Redis ${redactCredentials(url)} is not reachable: ${error instanceof Error ? error.message : String(error)}`,
      { option: 'redisUrl', cause: error },
    );
  }
}

/** Closes a connection: politely when Redis is there (at most 2 s), at once when it is not. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.quit().catch(() => client.disconnect()),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        client.disconnect();
        resolve();
      }, 2000);
    }),
  ]);
  clearTimeout(timer);
}
