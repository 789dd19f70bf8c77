/**
 * What `--limiter` accepts: `memory` or a `redis://` / `rediss://` URL. Light (no limiter
 * code), so the flag is checked when it is parsed, whether or not a limit uses it.
 */
import { didYouMean } from '../config/did-you-mean.js';
import { VisionpipeError } from '../errors.js';

const REDIS_URL = /^rediss?:\/\/[^/\s]+/i;

/** The closest valid spec: `redis://…` for a mistyped scheme (`redsi://h:6379`, `redis:h`), else `memory`. */
function limiterSuggestion(value: string): string {
  const scheme = /^([a-z]+):(?:\/\/)?(.*)$/i.exec(value);
  if (scheme && /^[a-z]{3,7}$/i.test(scheme[1]!) && didYouMean(scheme[1]!, ['redis', 'rediss']) !== '')
    return ` Did you mean "${scheme[1]!.toLowerCase() === 'rediss' ? 'rediss' : 'redis'}://${scheme[2] || '127.0.0.1:6379'}"?`;
  return didYouMean(value, ['memory', 'redis']).replace('"redis"', '"redis://127.0.0.1:6379"');
}

/**
 * Checks a `--limiter` value whether or not a limit (`--rpm`, `--tpm`) makes it used: a typo
 * is an INVALID_OPTION naming `flag` and the value, with the closest valid spec.
 */
export function checkLimiterSpec(spec: string, flag = '--limiter'): string {
  const value = spec.trim();
  if (value === 'memory' || REDIS_URL.test(value)) return value;
  throw new VisionpipeError(
    'INVALID_OPTION',
    `${flag} "${spec}" must be memory or a redis://host:port[/db] URL.${limiterSuggestion(value)}`,
    { option: flag.replace(/^-+/, '') },
  );
}
