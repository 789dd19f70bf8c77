/**
 * Redis connections for BullMQ from `REDIS_URL`. Workers block on Redis, so their
 * connections must never give up on a command (`maxRetriesPerRequest: null`, as BullMQ
 * requires); ioredis reconnects by itself after Redis restarts.
 */
import { Redis } from 'ioredis';
import { checkRedisUrl, redactCredentials } from '../config/urls.js';
import { VisionpipeError } from '../errors.js';

/** A connection for BullMQ queues and workers; resolves once Redis answers, else INVALID_OPTION naming it. */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  const client = new Redis(checkRedisUrl(url), {
    maxRetriesPerRequest: null,
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
