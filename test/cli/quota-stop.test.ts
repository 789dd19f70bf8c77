/**
 * A daily quota used up (Gemini's RESOURCE_EXHAUSTED with a QuotaFailure `…PerDay…` and a
 * RetryInfo of 86 396 s) stops the provider's calls for the rest of the run: the images
 * after it fail at once as QUOTA_EXCEEDED, unsent, their message naming when the quota
 * comes back (trial of issue 10: all 145 images after the first refusal were still sent
 * and refused, 150 requests in 7 s). A quota whose reset fits the wait budget does not
 * stop anything. Real CLI, loopback server.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noteQuotaRefusal, quotaStopped } from '../../src/flow/quota-stop.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { httpStatusError } from '../../src/providers/http-errors.js';
import { type Reply, startCompatibleServer } from '../support/openai-compatible.js';
import { runInFolder, stopWorkFolder } from '../support/stop-work.js';

const NAMES = ['invoice', 'car-plate', 'vin', 'construction'].flatMap((kind) =>
  [1, 2, 3, 4, 5].map((i) => `${kind}${i}.jpg`),
);
const DAY_LEFT_S = 86_396;

function dailyQuota(delayS = DAY_LEFT_S) {
  return {
    error: {
      code: 429,
      message: 'You exceeded your current quota, please check your plan and billing details.',
      status: 'RESOURCE_EXHAUSTED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
              quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
            },
          ],
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${delayS}s` },
      ],
    },
  };
}

/** Gemini's older wording of a daily quota, with no RetryInfo. */
function geminiPerDayWords() {
  return {
    error: {
      code: 429,
      message:
        "Quota exceeded for quota metric 'Generate Content API requests per day' and limit 'GenerateContent request limit per day' of service 'generativelanguage.googleapis.com'.",
      status: 'RESOURCE_EXHAUSTED',
    },
  };
}

/** OpenAI's 429 for an account out of credit: no Retry-After, no reset. */
function openAiInsufficientQuota() {
  return {
    error: {
      message:
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs.',
      type: 'insufficient_quota',
      code: 'insufficient_quota',
    },
  };
}

let work: string;
const servers: Array<{ close(): Promise<void> }> = [];
beforeAll(async () => {
  work = await stopWorkFolder('visionpipe-quota-stop-', NAMES);
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('a daily quota used up', () => {
  it('fails the rest of the run at once, unsent, naming when the quota comes back', async () => {
    const server = await startCompatibleServer(
      (_call, n): Reply => (n <= 3 ? { content: '{"total": 1}' } : { status: 429, errorBody: dailyQuota() }),
    );
    servers.push(server);
    const out = `${work}/daily.jsonl`;
    const records = await runInFolder(work, server.baseUrl, out, ['--concurrency', '2']);
    const unsent = stoppedUnsent(records, server.calls.length);
    for (const r of unsent) {
      expect(r.attempts).toBe(0);
      expect(r.error?.message).toMatch(
        /the quota GenerateRequestsPerDayPerProjectPerModel-FreeTier is used up until about \d{4}-\d\d-\d\dT.* \(in 2[34] h \d+ min\)/,
      );
    }
  });

  // Trial of issue 10 (10h): Anthropic's 400 for a usage limit set in its console was read as
  // a bad request: every image was sent and refused (141 requests), the provider never stopped.
  it("Anthropic's 400 'reached your specified API usage limits': later images fail unsent, naming the date access comes back", async () => {
    const year = new Date().getUTCFullYear() + 1;
    const body = {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: `You have reached your specified API usage limits. You will regain access on ${year}-01-01 at 00:00 UTC.`,
      },
    };
    const server = await startCompatibleServer(
      (_call, n): Reply => (n <= 3 ? { content: '{"total": 1}' } : { status: 400, errorBody: body }),
    );
    servers.push(server);
    const records = await runInFolder(work, server.baseUrl, `${work}/usage-limit.jsonl`, [
      '--concurrency',
      '2',
    ]);
    const unsent = stoppedUnsent(records, server.calls.length);
    for (const r of unsent) {
      expect(r.error?.code).toBe('QUOTA_EXCEEDED');
      expect(r.error?.message).toMatch(new RegExp(`until about ${year}-01-01T00:00`));
    }
  });

  // Trial of issue 10 (10f): an Anthropic-style daily limit named only in the message, with
  // budget headers saying 0 left until midnight, was read as pacing; the images not sent yet
  // waited for that reset with no budget to end the wait, and the run never finished.
  it('a daily limit named in the message and in the budget headers: the run ends, nothing waits for the reset', async () => {
    const daily =
      "This request would exceed your organization's daily rate limit of 3 requests per day. Your limit resets at midnight UTC.";
    const run = await afterThreeAnswers('daily-message', DAY_LEFT_S, '23h59m56s', daily, []);
    for (const r of run.failed) expect(r.error?.code).toBe('QUOTA_EXCEEDED');
    expect(run.sent).toBeLessThanOrEqual(5);
  });

  it('a used-up budget its headers say resets in hours fails the images not sent yet at once (RATE_LIMITED), not after the reset', async () => {
    const pace = 'Rate limit reached for requests.';
    const run = await afterThreeAnswers('hours', 18_000, '5h', pace, ['--max-retry-wait', '5s']);
    for (const r of run.failed) expect(r.error?.code).toBe('RATE_LIMITED');
    expect(run.sent).toBeLessThanOrEqual(8);
  });

  // Trial of issue 10: a daily quota naming no reset (or a short one) was sent and refused
  // once per image (80 of 100 requests refused); it stops the provider as one naming a day.
  it.each([
    ['gemini-words', 'gemini per day in words, no RetryInfo', geminiPerDayWords()],
    ['gemini-short', 'gemini per-day QuotaFailure with a RetryInfo of 30 s', dailyQuota(30)],
    ['openai-quota', 'openai insufficient_quota', openAiInsufficientQuota()],
  ])(
    'a quota naming no reset, or a short one (%s): later images fail unsent, a run after it reads them',
    async (name, _what, body) => {
      let refusing = true;
      const server = await startCompatibleServer(
        (_call, n): Reply =>
          n <= 3 || !refusing ? { content: '{"total": 1}' } : { status: 429, errorBody: body },
      );
      servers.push(server);
      const out = `${work}/${name}.jsonl`;
      const run = () => runInFolder(work, server.baseUrl, out, ['--concurrency', '2']);
      const unsent = stoppedUnsent(await run(), server.calls.length);
      expect(unsent[0]?.error?.message).toMatch(/one call tries again at about \d{4}-.* \(in 10 min\)/);
      // The quota is back (a new day, credit added): the same command reads the failed images.
      refusing = false;
      expect((await run()).filter((r) => r.status === 'ok')).toHaveLength(NAMES.length);
    },
  );

  it('stops until the named reset when it is past the wait budget, else for the recheck interval', () => {
    const named = {};
    noteQuotaRefusal(named, httpStatusError('gemini', 429, {}, dailyQuota()), 120_000);
    expect(quotaStopped(named)?.message).toMatch(/until about .* \(in 2[34] h \d+ min\)/);
    const short = {};
    noteQuotaRefusal(short, httpStatusError('gemini', 429, {}, dailyQuota(30)), 120_000);
    expect(quotaStopped(short)?.message).toMatch(/\(in 10 min\)/);
    // A rate limit (per minute) is no quota: it stops nothing.
    const pace = {};
    const perMinute = httpStatusError(
      'openai',
      429,
      { 'retry-after': '1' },
      {
        error: { message: 'Rate limit reached. Please try again in 1s.', code: 'rate_limit_exceeded' },
      },
    );
    expect(perMinute.code).toBe('RATE_LIMITED');
    noteQuotaRefusal(pace, perMinute, 120_000);
    expect(quotaStopped(pace)).toBeUndefined();
  });
});

/**
 * The records of a run a quota stopped: every image has one, more than 10 failed
 * QUOTA_EXCEEDED, all but 2 of those unsent; `sent` requests reached the server: the 3
 * answered, the first refused, and at most the other call then in flight.
 * @returns the unsent records.
 */
function stoppedUnsent(records: RunRecord[], sent: number): RunRecord[] {
  expect(records).toHaveLength(NAMES.length);
  const failed = records.filter((r) => r.status !== 'ok');
  expect(failed.length).toBeGreaterThan(10);
  for (const r of failed) expect(r.error?.code).toBe('QUOTA_EXCEEDED');
  expect(sent).toBeLessThanOrEqual(5);
  const unsent = failed.filter((r) => r.error?.message.startsWith('not sent'));
  expect(unsent.length).toBeGreaterThanOrEqual(failed.length - 2);
  return unsent;
}

/**
 * A run where the server answers 3 calls, then refuses every call with a 429 naming a
 * wait of `retryAfterS`, budget headers at 0 left until `resetIn`, and `message`. The run
 * must end by itself (a wait for the reset would outlast the 60 s kill), every image with
 * a record and more than 10 of them failed.
 */
async function afterThreeAnswers(
  name: string,
  retryAfterS: number,
  resetIn: string,
  message: string,
  extra: string[],
) {
  const server = await startCompatibleServer(
    (_call, n): Reply =>
      n <= 3
        ? { content: '{"total": 1}' }
        : {
            status: 429,
            headers: {
              'retry-after': String(retryAfterS),
              'x-ratelimit-limit-requests': '3',
              'x-ratelimit-remaining-requests': '0',
              'x-ratelimit-reset-requests': resetIn,
            },
            errorBody: { error: { type: 'rate_limit_error', message } },
          },
  );
  servers.push(server);
  const out = `${work}/${name}.jsonl`;
  const records = await runInFolder(work, server.baseUrl, out, ['--concurrency', '2', ...extra], 60_000);
  expect(records).toHaveLength(NAMES.length);
  const failed = records.filter((r) => r.status !== 'ok');
  expect(failed.length).toBeGreaterThan(10);
  return { failed, sent: server.calls.length };
}
