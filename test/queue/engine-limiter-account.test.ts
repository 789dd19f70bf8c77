/**
 * A service worker's shared limiter is one per provider account (provider, endpoint, key), as
 * a CLI run's is (test/cli/limiter-account.test.ts): a job whose base URL names another server
 * must not share the worker's budget nor what its flow learned, and a CLI run with
 * `--limiter redis://…` on the same account shares the worker's. Real Redis on 127.0.0.1:6379
 * under a unique prefix, real OpenAI-compatible servers on loopback.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { limiterAccount } from '../../src/cli/provider-settings.js';
import { parsePattern } from '../../src/patterns/index.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { openEngine } from '../../src/queue/engine.js';
import { tempDir } from '../support/images.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const REDIS = 'redis://127.0.0.1:6379/0';
const pattern = parsePattern(
  { name: 'simple', format: 'json', instructions: 'Vendor.', json_schema: { vendor_name: 'string' } },
  'account',
);
const servers: CompatibleServer[] = [];
const saved = process.env.OPENAI_API_KEY;

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
  if (saved === undefined) delete process.env.OPENAI_API_KEY;
  else process.env.OPENAI_API_KEY = saved;
});

/** The limiter names (Redis hash tags) written under `prefix`. */
async function limiterNames(prefix: string): Promise<string[]> {
  const admin = new Redis(REDIS, { maxRetriesPerRequest: 1 });
  try {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
    return [...new Set(keys.map((key) => /\{([^}]+)\}/.exec(key)?.[1] ?? key))].sort();
  } finally {
    admin.disconnect();
  }
}

describe('engine: one shared limiter per provider account', () => {
  it("a job naming another server gets that server's own limiter; the worker's is named as a CLI run's", async () => {
    process.env.OPENAI_API_KEY = 'sk-engine-account';
    const own = await startCompatibleServer('{"vendor_name":"ACME"}');
    const other = await startCompatibleServer('{"vendor_name":"OTHER"}');
    servers.push(own, other);
    const prefix = `vp-test-account-${randomUUID()}`;
    const engine = await openEngine({
      provider: 'openai',
      providerOptions: { openai: { baseUrl: own.baseUrl } } as never,
      model: 'gpt-4.1-mini',
      cache: 'memory',
      cacheNamespace: prefix,
      cacheTtlMs: 60_000,
      stateDir: await tempDir(),
      limiterStore: REDIS,
      limiterPrefix: prefix,
      warn: () => {},
    });
    try {
      const image = await solidJpeg(200, 120);
      const mine = await (await engine.pipelines.for(pattern)).process(image, { label: 'own.jpg' });
      const theirs = await (
        await engine.pipelines.for(pattern, { id: 'openai', baseUrl: other.baseUrl })
      ).process(image, { label: 'other.jpg' });
      expect([mine.status, theirs.status]).toEqual(['ok', 'ok']);
      expect([own.calls.length, other.calls.length]).toEqual([1, 1]);
      const names = await limiterNames(prefix);
      expect(names).toEqual(
        [
          limiterAccount({ provider: 'openai', baseUrl: own.baseUrl }),
          limiterAccount({ provider: 'openai', baseUrl: other.baseUrl }),
        ].sort(),
      );
    } finally {
      await engine.close();
    }
  });
});
