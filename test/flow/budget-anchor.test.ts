/**
 * When a reported budget's reset counts from (issue 10). A reset given as a duration
 * (OpenAI's `x-ratelimit-reset-requests: 1s`, IETF `RateLimit-Reset` seconds) is counted
 * by the server from when it admitted the call, about when the client sent it; the
 * answer arrives a whole latency later. A reset given as a moment (Anthropic's RFC 3339
 * time, a unix time) is turned into a duration when the answer is read. The flow's
 * budget hold counts each from the right instant: anchored at the answer, a fixed
 * window's hold ended a latency after the window had reset.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveFlow, type FlowSlot } from '../../src/flow/adaptive.js';
import { parseRateLimitHeaders } from '../../src/flow/rate-limit-headers.js';
import type { RateLimitSnapshot } from '../../src/providers/spec.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One call sent at flow time 0 and answered at 400 ms with a spent budget of 2 calls
 * whose reset is 1 s: the next call fits one call's refill (500 ms) after the reset's
 * anchor. Returns whether the next call is admitted at flow time 550.
 */
async function admittedAt550(rateLimit: RateLimitSnapshot): Promise<boolean> {
  let now = 0;
  const flow = new AdaptiveFlow({ maxConcurrency: 4, now: () => now });
  const first = await flow.admit();
  now = 400;
  first.done({ kind: 'ok', rateLimit });
  let next: FlowSlot | undefined;
  void flow.admit().then((slot) => {
    next = slot;
  });
  now = 550;
  // The hold's timer re-checks the (fake) clock: at most 100 ms of real time for the duration anchor.
  await sleep(250);
  next?.done({ kind: 'ok' });
  flow.close();
  return next !== undefined;
}

describe('budget reset anchor', () => {
  it('a duration reset counts from the send: the next call goes 500 ms after it, not after the answer', async () => {
    expect(await admittedAt550({ requests: { limit: 2, remaining: 0, resetMs: 1000 } })).toBe(true);
  });

  it('a moment reset counts from the answer that carried it', async () => {
    expect(await admittedAt550({ requests: { limit: 2, remaining: 0, resetMs: 1000, resetAt: true } })).toBe(
      false,
    );
  });

  it('the header parser tells moments from durations', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    const openai = parseRateLimitHeaders(
      'openai',
      {
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1s',
      },
      now,
    );
    expect(openai?.requests).toEqual({ limit: 60, remaining: 0, resetMs: 1000 });
    const ietf = parseRateLimitHeaders(
      'openai',
      { 'ratelimit-limit': '60', 'ratelimit-remaining': '0', 'ratelimit-reset': '2' },
      now,
    );
    expect(ietf?.requests).toEqual({ limit: 60, remaining: 0, resetMs: 2000 });
    const anthropic = parseRateLimitHeaders(
      'anthropic',
      {
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '0',
        'anthropic-ratelimit-requests-reset': '2026-11-30T10:00:03Z',
      },
      now,
    );
    expect(anthropic?.requests).toEqual({ limit: 50, remaining: 0, resetMs: 3000, resetAt: true });
    const unix = parseRateLimitHeaders(
      'imggo',
      {
        'x-ratelimit-limit': '10',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(now / 1000 + 4),
      },
      now,
    );
    expect(unix?.requests).toEqual({ limit: 10, remaining: 0, resetMs: 4000, resetAt: true });
    const delta = parseRateLimitHeaders(
      'imggo',
      { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '4' },
      now,
    );
    expect(delta?.requests).toEqual({ limit: 10, remaining: 0, resetMs: 4000 });
  });
});
