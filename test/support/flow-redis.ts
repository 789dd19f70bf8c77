/**
 * The real Redis the shared-flow model tests run their flow script on (127.0.0.1:6379): one
 * client with the limiter's commands for the file, a unique key prefix per use, and every
 * key under those prefixes deleted when the file ends.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { FlowCommand } from '../../src/flow/flow-share.js';
import { defineLimiterCommands } from '../../src/flow/redis-scripts.js';

export type FlowRedis = Redis & { visionpipeFlow: FlowCommand };

/** Registers the file's hooks; `client()` is valid inside tests, `prefix()` names fresh keys. */
export function useFlowRedis(): { client(): FlowRedis; prefix(): string } {
  let raw: FlowRedis | undefined;
  const prefixes: string[] = [];
  beforeAll(async () => {
    raw = defineLimiterCommands(new Redis('redis://127.0.0.1:6379/0', { maxRetriesPerRequest: 1 }));
    await raw.ping();
  });
  afterAll(async () => {
    if (!raw) return;
    for (const prefix of prefixes) {
      const keys = await raw.keys(`${prefix}:*`);
      if (keys.length > 0) await raw.del(...keys);
    }
    raw.disconnect();
  });
  return {
    client: () => {
      if (!raw) throw new Error('useFlowRedis: the client exists inside tests only');
      return raw;
    },
    prefix: () => {
      const prefix = `visionpipe-test:${randomUUID()}`;
      prefixes.push(prefix);
      return prefix;
    },
  };
}
