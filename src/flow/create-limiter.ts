/**
 * `--limiter memory` (the default) or `--limiter redis://host:port/db`: one factory so
 * the CLI and the library pick a backend the same way.
 */
import type { Limiter, LimiterOptions } from './limiter.js';
import { checkLimiterSpec } from './limiter-spec.js';
import { MemoryLimiter } from './memory-limiter.js';
import { RedisLimiter, type RedisLimiterOptions } from './redis-limiter.js';

export type CreateLimiterOptions = LimiterOptions & Omit<RedisLimiterOptions, 'url'>;

export function createLimiter(spec: string | undefined, options: CreateLimiterOptions = {}): Limiter {
  const value = spec?.trim() || 'memory';
  if (checkLimiterSpec(value, 'limiter') === 'memory') return new MemoryLimiter(options);
  return new RedisLimiter({ ...options, url: value });
}
