/**
 * A server whose pause is longer than what --max-retry-wait leaves (trial of issue 10:
 * `--max-retry-wait 30s` against a real 40 s Retry-After): the images fail at once, not after
 * sitting out the budget, with RATE_LIMITED naming both figures, and the summary's next step
 * says the budget would be exceeded, not that it was spent. The first 40 s is doubted (far
 * over any wait believed) and tested by one call; refused again, it is believed. An image
 * not sent yet fails too, unsent: the pause ahead is longer than its whole budget.
 * Real CLI against a loopback OpenAI-compatible server that refuses every call for 40 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { stopWorkFolder } from '../support/stop-work.js';

/** More than the flow's first calls in flight (8): some are not sent yet when the 40 s is believed. */
const NAMES = [
  'invoice1.jpg',
  'invoice2.jpg',
  'car-plate1.jpg',
  'car-plate2.jpg',
  'car-plate3.jpg',
  'car-plate4.jpg',
  'car-plate5.jpg',
  'vin5.jpg',
  'construction1.jpg',
  'construction2.jpg',
];
let server: CompatibleServer;
let work: string;
/** When each call arrived (ms, server clock). */
const arrivals: number[] = [];

beforeAll(async () => {
  server = await startCompatibleServer(() => {
    arrivals.push(performance.now());
    return {
      status: 429,
      headers: { 'retry-after': '40' },
      errorBody: {
        error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
      },
    };
  });
  work = await stopWorkFolder('visionpipe-wait-exceeded-', NAMES);
});

afterAll(async () => {
  await server?.close();
});

describe('a Retry-After longer than what --max-retry-wait leaves', () => {
  it('fails the images at once, naming the server’s wait and what the budget leaves; the summary says "would be exceeded"', async () => {
    const out = `${work}/results.jsonl`;
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--max-retry-wait', '30s', '--no-progress'],
      cwd: work,
    });
    expect(result.code, result.stderr).toBe(0);
    const records = await readRecords(out);
    expect(records).toHaveLength(NAMES.length);
    for (const record of records) {
      expect(record).toMatchObject({ status: 'error', error: { code: 'RATE_LIMITED' }, attempts: 0 });
      expect(record.error!.message).toMatch(
        /the server asks to wait 40 s; --max-retry-wait leaves \d+ s, so the image fails now rather than wait/,
      );
      // Not sat out: the only wait was the doubted 40 s's one-second test (30 s budget).
      expect(record.rate_limited.wait_ms).toBeLessThan(15_000);
    }
    // At most one call per image, plus the one that tested the doubted wait.
    expect(server.calls.length).toBeLessThanOrEqual(NAMES.length + 1);
    // Images not sent yet fail unsent rather than sit out the 40 s and be refused after it.
    expect(records.filter((r) => r.error!.message.includes('not sent')).length).toBeGreaterThan(0);
    // No call after the believed 40 s: all came within the doubted wait's one-second test
    // (a bound 40 s from what it guards, not a timing: one sent after the pause would be 40 s on).
    expect(arrivals.at(-1)! - arrivals[0]!).toBeLessThan(30_000);
    const step = /^ {2}next \(RATE_LIMITED\): (.*)$/m.exec(result.stdout)?.[1];
    expect(step, result.stdout).toContain('the budget would be exceeded (not spent)');
    expect(step).not.toContain('budget was spent');
    expect(step).toContain('raise --max-retry-wait above the wait the server asks for');
  });
});
