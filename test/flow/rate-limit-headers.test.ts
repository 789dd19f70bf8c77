import { describe, expect, it } from 'vitest';
import { parseDuration, parseRateLimitHeaders } from '../../src/flow/rate-limit-headers.js';
import { parseRetryAfter } from '../../src/flow/retry-after.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

describe('parseDuration (OpenAI reset format)', () => {
  it.each([
    ['12ms', 12],
    ['1s', 1000],
    ['17.28s', 17_280],
    ['6m0s', 360_000],
    ['1m30s', 90_000],
    ['2h3m4.5s', 7_384_500],
    ['500us', 0.5],
    ['0s', 0],
    ['2', 2000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['', 'soon', '1x', 'm', '1m30', '-1s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter({ 'retry-after': '7' }, NOW)).toBe(7000);
    expect(parseRetryAfter({ 'Retry-After': '1.5' }, NOW)).toBe(1500);
  });

  it('reads an HTTP-date as the time left until it', () => {
    expect(parseRetryAfter({ 'retry-after': 'Sun, 01 Jun 2025 12:00:30 GMT' }, NOW)).toBe(30_000);
    expect(parseRetryAfter({ 'retry-after': 'Sun, 01 Jun 2025 11:59:00 GMT' }, NOW)).toBe(0);
  });

  it('prefers retry-after-ms, rounding fractions up', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '1234.2', 'retry-after': '9' }, NOW)).toBe(1235);
  });

  it('ignores garbage and absence', () => {
    expect(parseRetryAfter({ 'retry-after': 'soon' }, NOW)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '' }, NOW)).toBeUndefined();
    expect(parseRetryAfter({}, NOW)).toBeUndefined();
  });

  it('reads fetch Headers and repeated values', () => {
    expect(parseRetryAfter(new Headers({ 'Retry-After': '3' }), NOW)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': ['4', '5'] }, NOW)).toBe(4000);
  });
});

describe('parseRateLimitHeaders', () => {
  it('openai: requests and tokens with Go duration resets', () => {
    const snapshot = parseRateLimitHeaders(
      'openai',
      {
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '499',
        'x-ratelimit-reset-requests': '120ms',
        'x-ratelimit-limit-tokens': '30000',
        'x-ratelimit-remaining-tokens': '28850',
        'x-ratelimit-reset-tokens': '1m30s',
      },
      NOW,
    );
    expect(snapshot).toEqual({
      requests: { limit: 500, remaining: 499, resetMs: 120 },
      tokens: { limit: 30000, remaining: 28850, resetMs: 90_000 },
    });
  });

  it('anthropic: RFC 3339 resets, the most constrained token family, retry-after', () => {
    const snapshot = parseRateLimitHeaders(
      'anthropic',
      {
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '12',
        'anthropic-ratelimit-requests-reset': '2025-06-01T12:00:05Z',
        'anthropic-ratelimit-input-tokens-limit': '40000',
        'anthropic-ratelimit-input-tokens-remaining': '2000',
        'anthropic-ratelimit-input-tokens-reset': '2025-06-01T12:00:42.5Z',
        'anthropic-ratelimit-output-tokens-limit': '8000',
        'anthropic-ratelimit-output-tokens-remaining': '7000',
        'anthropic-ratelimit-output-tokens-reset': '2025-06-01T12:00:01Z',
        'retry-after': '3',
      },
      NOW,
    );
    expect(snapshot).toEqual({
      // Resets given as moments (the flow counts them from the answer, durations from the send).
      requests: { limit: 50, remaining: 12, resetMs: 5000, resetAt: true },
      tokens: { limit: 40000, remaining: 2000, resetMs: 42_500, resetAt: true },
      retryAfterMs: 3000,
    });
  });

  it('imggo: X-RateLimit-* in any case, Reset as unix seconds or a small delta', () => {
    const resetAt = Math.floor(NOW / 1000) + 20;
    expect(
      parseRateLimitHeaders(
        'imggo',
        { 'X-RateLimit-Limit': '100', 'X-RATELIMIT-REMAINING': '0', 'x-ratelimit-reset': String(resetAt) },
        NOW,
      ),
    ).toEqual({ requests: { limit: 100, remaining: 0, resetMs: 20_000, resetAt: true } });
    expect(parseRateLimitHeaders('imggo', { 'x-ratelimit-reset': '7' }, NOW)).toEqual({
      requests: { resetMs: 7000 },
    });
  });

  it('any provider reads whichever family the server sends (gateways, OpenAI-compatible servers)', () => {
    expect(
      parseRateLimitHeaders('gemini', { 'retry-after': '2', 'x-ratelimit-remaining-requests': '0' }, NOW),
    ).toEqual({ requests: { remaining: 0 }, retryAfterMs: 2000 });
    expect(parseRateLimitHeaders('local', { 'retry-after-ms': '250' }, NOW)).toEqual({ retryAfterMs: 250 });
    // The provider's own family wins when several are present.
    expect(
      parseRateLimitHeaders(
        'openai',
        { 'x-ratelimit-remaining-requests': '5', 'ratelimit-remaining': '9', 'ratelimit-limit': '10' },
        NOW,
      ),
    ).toEqual({ requests: { remaining: 5 } });
  });

  it('IETF RateLimit-Limit/Remaining/Reset (delta seconds)', () => {
    expect(
      parseRateLimitHeaders(
        'openai',
        { 'RateLimit-Limit': '40', 'RateLimit-Remaining': '3', 'RateLimit-Reset': '2' },
        NOW,
      ),
    ).toEqual({ requests: { limit: 40, remaining: 3, resetMs: 2000 } });
  });

  it('returns undefined when nothing is known', () => {
    expect(parseRateLimitHeaders('openai', { 'content-type': 'application/json' }, NOW)).toBeUndefined();
    expect(
      parseRateLimitHeaders('openai', { 'x-ratelimit-remaining-requests': 'lots' }, NOW),
    ).toBeUndefined();
  });
});
