/**
 * `--limiter memory` (the default) or `--limiter redis://host:port/db`: one factory so
 * the CLI and the library pick a backend the same way.
 */
import { VisionpipeError } from '../errors.js';
import type { Limiter, LimiterOptions } from './limiter.js';
import { MemoryLimiter } from './memory-limiter.js';
import { RedisLimiter, type RedisLimiterOptions } from './redis-limiter.js';

export type CreateLimiterOptions = LimiterOptions & Omit<RedisLimiterOptions, 'url'>;

export function createLimiter(spec: string | undefined, options: CreateLimiterOptions = {}): Limiter {
  const value = spec?.trim() ?? 'memory';
  if (value === '' || value === 'memory') return new MemoryLimiter(options);
  if (/^rediss?:\/\//i.test(value)) return new RedisLimiter({ ...options, url: value });
  throw new VisionpipeError(
    'INVALID_OPTION',
    `limiter must be "memory" or a redis://host:port[/db] URL (got "${value}")`,
    {
      option: 'limiter',
    },
  );
}
