import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../src/flow/create-limiter.js';
import { MemoryLimiter } from '../../src/flow/memory-limiter.js';
import { RedisLimiter } from '../../src/flow/redis-limiter.js';

describe('createLimiter (--limiter)', () => {
  it('is in memory by default or when asked', async () => {
    expect(createLimiter(undefined, { rpm: 60 })).toBeInstanceOf(MemoryLimiter);
    expect(createLimiter('memory')).toBeInstanceOf(MemoryLimiter);
  });

  it('is shared through Redis for a redis:// URL', async () => {
    const limiter = createLimiter('redis://127.0.0.1:6379/0', { rpm: 60, name: 'openai' });
    expect(limiter).toBeInstanceOf(RedisLimiter);
    expect((limiter as RedisLimiter).keys[0]).toBe('visionpipe:limiter:{openai}:requests');
    await limiter.close();
  });

  it('names the option and the bad value otherwise', () => {
    expect(() => createLimiter('memcached://x')).toThrow(
      /limiter "memcached:\/\/x" must be memory or a redis:\/\//,
    );
  });
});
