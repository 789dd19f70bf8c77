/**
 * A request budget used up with `x-ratelimit-reset-requests: 5h` (OpenAI: the time until
 * the budget "resets to its initial state", back in full): the images not sent yet fail at
 * once as RATE_LIMITED, and their message names that reset, not the flow's refill estimate
 * of reset ÷ limit (trial of issue 10: "the provider's pause ahead is 937 s" for 5h and a
 * limit of 20, a figure the server never named). Real CLI, loopback server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompatibleServer, type Reply, startCompatibleServer } from '../support/openai-compatible.js';
import { runInFolder, stopWorkFolder } from '../support/stop-work.js';

const NAMES = ['invoice', 'car-plate', 'vin'].flatMap((kind) => [1, 2, 3, 4].map((i) => `${kind}${i}.jpg`));
const LIMIT = 4;
let server: CompatibleServer;
let work: string;

beforeAll(async () => {
  server = await startCompatibleServer((_call, n): Reply => {
    const budget = {
      'x-ratelimit-limit-requests': String(LIMIT),
      'x-ratelimit-remaining-requests': String(Math.max(0, LIMIT - n)),
      'x-ratelimit-reset-requests': '5h',
    };
    if (n <= LIMIT) return { content: '{"total": 1}', headers: budget };
    return {
      status: 429,
      headers: budget,
      errorBody: {
        error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
      },
    };
  });
  work = await stopWorkFolder('visionpipe-hours-reset-', NAMES);
});

afterAll(async () => {
  await server?.close();
});

describe('a request budget used up until a reset hours away', () => {
  it('fails the rest at once, naming the reset the server named, not a pause of reset ÷ limit', async () => {
    const out = `${work}/results.jsonl`;
    const records = await runInFolder(work, server.baseUrl, out, ['--concurrency', '2'], 60_000);
    expect(records).toHaveLength(NAMES.length);
    const failed = records.filter((r) => r.status !== 'ok');
    expect(failed.length).toBeGreaterThanOrEqual(NAMES.length - LIMIT - 1);
    for (const r of failed) {
      expect(r.error?.code).toBe('RATE_LIMITED');
      expect(r.error?.message).toMatch(/request budget of 4 requests is used up, back in full in 4h5\dm/);
      // 5 h ÷ 4 = 4500 s: the refill estimate is no figure the server named.
      expect(r.error?.message).not.toMatch(/pause ahead is/);
    }
  });
});
