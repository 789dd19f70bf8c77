/**
 * How long a server asked us to wait: `retry-after-ms` (OpenAI, Azure: milliseconds,
 * may be fractional) wins over `Retry-After` (RFC 9110: delay-seconds or an HTTP-date).
 * The canonical parser: providers put its result on their errors as `retryAfterMs`.
 */
import { type HeaderBag, headerNumber, headerValue } from './headers.js';

/** Milliseconds to wait before retrying, or undefined when the headers say nothing usable. */
export function parseRetryAfter(headers: HeaderBag, now: number = Date.now()): number | undefined {
  const ms = headerNumber(headers, 'retry-after-ms');
  if (ms !== undefined) return Math.ceil(ms);
  const value = headerValue(headers, 'retry-after');
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  // An HTTP-date has a weekday name or at least letters for the month; a bare garbage
  // string like "soon" must not parse as a date.
  if (!/[a-z]{3}/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
