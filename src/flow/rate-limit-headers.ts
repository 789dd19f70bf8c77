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
 * - IETF draft RateLimit-Limit/Remaining/Reset (delta seconds).
 * - gemini: no budget headers; only the retry wait.
 *
 * The provider's own family is read first; when it is absent, the other families are
 * tried in turn, since OpenAI-compatible servers and gateways send any of them.
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
  const id = provider.toLowerCase();
  // The provider's own family first; then whatever family the server speaks (an
  // OpenAI-compatible gateway may send any of them).
  const order = [id, ...FAMILIES.filter((family) => family !== id)];
  for (const family of order) {
    const requests = requestsBudget(family, headers, now);
    if (requests === undefined) continue;
    snapshot.requests = requests;
    const tokens = tokensBudget(family, headers, now);
    if (tokens !== undefined) snapshot.tokens = tokens;
    break;
  }
  const retryAfterMs = parseRetryAfter(headers, now);
  if (retryAfterMs !== undefined) snapshot.retryAfterMs = retryAfterMs;
  return Object.keys(snapshot).length === 0 ? undefined : snapshot;
}

const FAMILIES = ['openai', 'anthropic', 'imggo', 'ietf'] as const;

function requestsBudget(family: string, headers: HeaderBag, now: number): Budget | undefined {
  switch (family) {
    case 'openai':
      return openaiBudget(headers, 'requests');
    case 'anthropic':
      return anthropicBudget(headers, 'requests', now);
    case 'imggo':
      return imggoBudget(headers, now);
    case 'ietf':
      return ietfBudget(headers);
    default:
      return undefined;
  }
}

function tokensBudget(family: string, headers: HeaderBag, now: number): Budget | undefined {
  if (family === 'openai') return openaiBudget(headers, 'tokens');
  if (family === 'anthropic')
    return mostConstrained(
      ['tokens', 'input-tokens', 'output-tokens'].map((name) => anthropicBudget(headers, name, now)),
    );
  return undefined;
}

/**
 * IETF draft-ietf-httpapi-ratelimit-headers (-07 and earlier): `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` in delta seconds.
 */
function ietfBudget(headers: HeaderBag): Budget | undefined {
  const reset = headerNumber(headers, 'ratelimit-reset');
  return budget(
    headerNumber(headers, 'ratelimit-limit'),
    headerNumber(headers, 'ratelimit-remaining'),
    reset === undefined ? undefined : reset * 1000,
  );
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
  return moment(
    budget(
      headerNumber(headers, `${prefix}-limit`),
      headerNumber(headers, `${prefix}-remaining`),
      Number.isNaN(at) ? undefined : Math.max(0, at - now),
    ),
    !Number.isNaN(at),
  );
}

function imggoBudget(headers: HeaderBag, now: number): Budget | undefined {
  const reset = headerNumber(headers, 'x-ratelimit-reset');
  let resetMs: number | undefined;
  if (reset !== undefined) {
    resetMs = reset >= UNIX_SECONDS_FLOOR ? Math.max(0, reset * 1000 - now) : reset * 1000;
  }
  return moment(
    budget(
      headerNumber(headers, 'x-ratelimit-limit'),
      headerNumber(headers, 'x-ratelimit-remaining'),
      resetMs,
    ),
    reset !== undefined && reset >= UNIX_SECONDS_FLOOR,
  );
}

/** Marks a budget whose reset was a moment, not a duration (see `RateLimitBudget.resetAt`). */
function moment(result: Budget | undefined, isMoment: boolean): Budget | undefined {
  if (result !== undefined && isMoment && result.resetMs !== undefined) result.resetAt = true;
  return result;
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
