/**
 * A run's shared limiter is one per provider account (trial 10c, high): under the one Redis
 * name `default`, a run against a 3/s server cut the learned rate of a run against a 20/s
 * server on the same Redis. The name is the provider, the endpoint's host and a fingerprint
 * of the API key; never the key itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { limiterAccount, limiterFrom } from '../../src/cli/provider-settings.js';
import type { RedisLimiter } from '../../src/flow/redis-limiter.js';

const saved = process.env.OPENAI_API_KEY;
afterEach(() => {
  if (saved === undefined) delete process.env.OPENAI_API_KEY;
  else process.env.OPENAI_API_KEY = saved;
});

const keysOf = async (flags: { provider: string; baseUrl?: string }) => {
  const limiter = limiterFrom(
    { ...flags, limiter: 'redis://127.0.0.1:6379' } as never,
    () => {},
  ) as RedisLimiter;
  const keys = limiter.keys;
  await limiter.close();
  return keys;
};

describe('limiterAccount: one shared limiter per provider account', () => {
  it('differs by endpoint, by provider and by API key; the same account shares one', async () => {
    process.env.OPENAI_API_KEY = 'sk-one';
    const a = await keysOf({ provider: 'openai', baseUrl: 'http://127.0.0.1:4001/v1' });
    const b = await keysOf({ provider: 'openai', baseUrl: 'http://127.0.0.1:4002/v1' });
    const again = await keysOf({ provider: 'openai', baseUrl: 'http://127.0.0.1:4001/other' });
    expect(a[0]).not.toBe(b[0]);
    expect(again).toEqual(a);
    process.env.OPENAI_API_KEY = 'sk-two';
    expect((await keysOf({ provider: 'openai', baseUrl: 'http://127.0.0.1:4001/v1' }))[0]).not.toBe(a[0]);
    expect(limiterAccount({ provider: 'anthropic', baseUrl: 'http://127.0.0.1:4001/v1' })).not.toBe(
      limiterAccount({ provider: 'openai', baseUrl: 'http://127.0.0.1:4001/v1' }),
    );
  });

  it('names the provider and host, and never holds the key', () => {
    process.env.OPENAI_API_KEY = 'sk-secret-value';
    const name = limiterAccount({ provider: 'openai' });
    expect(name).toMatch(/^openai@default#[0-9a-f]{12}$/);
    expect(name).not.toContain('secret');
    delete process.env.OPENAI_API_KEY;
    expect(limiterAccount({ provider: 'openai', baseUrl: 'http://127.0.0.1:4001/v1' })).toBe(
      'openai@127.0.0.1:4001#-',
    );
  });
});
