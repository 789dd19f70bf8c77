/**
 * Which per-minute 429s are a request alone over the budget (IMAGE_TOO_LARGE, no wait) and
 * which stay rate limits: Anthropic's "… would exceed the rate limit … of N input (output)
 * tokens per minute" names only N, so the request's estimate decides; without one it stays
 * a rate limit. Pure reading of the provider's answer (httpStatusError).
 */
import { describe, expect, it } from 'vitest';
import { isThrottle } from '../../src/flow/throttle.js';
import { httpStatusError } from '../../src/providers/http-errors.js';
import { overTokenBudgetOf } from '../../src/providers/token-budget.js';

const anthropic = (limit: string, kind: 'input' | 'output') => ({
  type: 'error',
  error: {
    type: 'rate_limit_error',
    message: `This request would exceed the rate limit for your organization (d1f8a929-344a-41f7-8f0b-a462d53000d5) of ${limit} ${kind} tokens per minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`,
  },
});
const refusal = (body: unknown, estimate?: { input: number; output: number }) =>
  httpStatusError('anthropic', 429, { 'retry-after': '7' }, body, [], estimate);

describe("Anthropic's per-minute 429", () => {
  it('is IMAGE_TOO_LARGE when the estimated input is over N (N written with commas), never a throttle', () => {
    const error = refusal(anthropic('20,000', 'input'), { input: 24_310, output: 4096 });
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.retryAfterMs).toBeUndefined();
    expect(isThrottle(error)).toBe(false);
    expect(overTokenBudgetOf(error)).toEqual({
      limit: 20_000,
      requested: 24_310,
      kind: 'input',
      estimated: true,
    });
    expect(error.message).toContain(
      "the request needs about 24310 input tokens (estimated), over the account's limit of 20000 input tokens per minute",
    );
  });
  it('stays a rate limit, with its Retry-After, when the estimate is under N or unknown', () => {
    for (const error of [
      refusal(anthropic('20,000', 'input'), { input: 1_800, output: 4096 }),
      refusal(anthropic('20,000', 'input')),
    ]) {
      expect(error.code).toBe('RATE_LIMITED');
      expect(error.retryAfterMs).toBe(7000);
      expect(isThrottle(error)).toBe(true);
    }
  });
  it('over the output-token budget by max_tokens alone: IMAGE_TOO_LARGE, no image size helps', () => {
    const error = refusal(anthropic('2,000', 'output'), { input: 1_800, output: 4096 });
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(overTokenBudgetOf(error)).toMatchObject({ kind: 'output', requested: 4096, limit: 2000 });
    expect(error.message).toContain('asks for up to 4096 output tokens (max_tokens)');
  });
  it('the older "Number of request tokens has exceeded your per-minute rate limit" names no figure: a rate limit', () => {
    const error = refusal(
      {
        type: 'error',
        error: {
          type: 'rate_limit_error',
          message: 'Number of request tokens has exceeded your per-minute rate limit',
        },
      },
      { input: 1_000_000, output: 4096 },
    );
    expect(error.code).toBe('RATE_LIMITED');
  });
});

describe("OpenAI's 429 that names its wait only in words", () => {
  const openai = (wait: string) => ({
    error: {
      message: `Rate limit reached for gpt-4.1-mini in organization org-x on requests per min (RPM): Limit 40, Used 40, Requested 1. Please try again in ${wait}.`,
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    },
  });

  it.each([
    ['2.96s', 2960],
    ['20ms', 20],
    ['1m30s', 90_000],
  ])('"Please try again in %s" is its wait (ms) when no Retry-After came', (wait, ms) => {
    const error = httpStatusError('openai', 429, {}, openai(wait));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterMs).toBe(ms);
  });

  it('a Retry-After header wins over the words', () => {
    expect(httpStatusError('openai', 429, { 'retry-after': '7' }, openai('2.96s')).retryAfterMs).toBe(7000);
  });
});
