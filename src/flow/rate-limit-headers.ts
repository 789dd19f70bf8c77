/**
 * Reads each provider's rate-limit headers into one RateLimitSnapshot, so the limiter
 * can slow down before the provider answers 429. Provider quirks live here, in one
 * table per provider:
 *
 * - openai: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`; resets are Go
 *   durations (`12ms`, `1m30s`).
 * - anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
 *   {limit,remaining,reset}`; resets are RFC 3339 timestamps. The token figure kept is
 *   the most constrained of the three token families.
 * - imggo: `X-RateLimit-{Limit,Remaining,Reset}` (requests); Reset is a unix time in
 *   seconds (a small value is taken as seconds from now).
 * - gemini and anything else: no budget headers; only the retry wait.
 *
 * Every provider also gets `retryAfterMs` from `retry-after-ms` / `Retry-After`.
 */
import type { RateLimitSnapshot } from '../providers/spec.js';
import { parseDuration } from './duration.js';
import { type HeaderBag, headerNumber, headerValue } from './headers.js';
import { parseRetryAfter } from './retry-after.js';

export { parseDuration } from './duration.js';

type Budget = NonNullable<RateLimitSnapshot['requests']>;

/** Below this, an ImgGo `Reset` is a delta in seconds rather than a unix time (2001-09-09). */
const UNIX_SECONDS_FLOOR = 1_000_000_000;

export function parseRateLimitHeaders(
  provider: string,
  headers: HeaderBag,
  now: number = Date.now(),
): RateLimitSnapshot | undefined {
  const snapshot: RateLimitSnapshot = {};
  switch (provider.toLowerCase()) {
    case 'openai':
      assign(snapshot, 'requests', openaiBudget(headers, 'requests'));
      assign(snapshot, 'tokens', openaiBudget(headers, 'tokens'));
      break;
    case 'anthropic':
      assign(snapshot, 'requests', anthropicBudget(headers, 'requests', now));
      assign(
        snapshot,
        'tokens',
        mostConstrained(
          ['tokens', 'input-tokens', 'output-tokens'].map((family) => anthropicBudget(headers, family, now)),
        ),
      );
      break;
    case 'imggo':
      assign(snapshot, 'requests', imggoBudget(headers, now));
      break;
    default:
      break;
  }
  const retryAfterMs = parseRetryAfter(headers, now);
  if (retryAfterMs !== undefined) snapshot.retryAfterMs = retryAfterMs;
  return Object.keys(snapshot).length === 0 ? undefined : snapshot;
}

function openaiBudget(headers: HeaderBag, kind: 'requests' | 'tokens'): Budget | undefined {
  const reset = headerValue(headers, `x-ratelimit-reset-${kind}`);
  return budget(
    headerNumber(headers, `x-ratelimit-limit-${kind}`),
    headerNumber(headers, `x-ratelimit-remaining-${kind}`),
    reset === undefined ? undefined : parseDuration(reset),
  );
}

function anthropicBudget(headers: HeaderBag, family: string, now: number): Budget | undefined {
  const prefix = `anthropic-ratelimit-${family}`;
  const reset = headerValue(headers, `${prefix}-reset`);
  const at = reset === undefined ? Number.NaN : Date.parse(reset);
  return budget(
    headerNumber(headers, `${prefix}-limit`),
    headerNumber(headers, `${prefix}-remaining`),
    Number.isNaN(at) ? undefined : Math.max(0, at - now),
  );
}

function imggoBudget(headers: HeaderBag, now: number): Budget | undefined {
  const reset = headerNumber(headers, 'x-ratelimit-reset');
  let resetMs: number | undefined;
  if (reset !== undefined) {
    resetMs = reset >= UNIX_SECONDS_FLOOR ? Math.max(0, reset * 1000 - now) : reset * 1000;
  }
  return budget(
    headerNumber(headers, 'x-ratelimit-limit'),
    headerNumber(headers, 'x-ratelimit-remaining'),
    resetMs,
  );
}

function budget(limit?: number, remaining?: number, resetMs?: number): Budget | undefined {
  if (limit === undefined && remaining === undefined && resetMs === undefined) return undefined;
  const result: Budget = {};
  if (limit !== undefined) result.limit = limit;
  if (remaining !== undefined) result.remaining = remaining;
  if (resetMs !== undefined) result.resetMs = Math.round(resetMs);
  return result;
}

/** The budget with the smallest remaining share: the one that will run out first. */
function mostConstrained(budgets: (Budget | undefined)[]): Budget | undefined {
  let best: Budget | undefined;
  let bestShare = Number.POSITIVE_INFINITY;
  for (const candidate of budgets) {
    if (candidate === undefined) continue;
    const share =
      candidate.remaining === undefined
        ? Number.POSITIVE_INFINITY
        : candidate.limit
          ? candidate.remaining / candidate.limit
          : candidate.remaining;
    if (best === undefined || share < bestShare) {
      best = candidate;
      bestShare = share;
    }
  }
  return best;
}

function assign(snapshot: RateLimitSnapshot, key: 'requests' | 'tokens', value: Budget | undefined): void {
  if (value !== undefined) snapshot[key] = value;
}
