/**
 * A server that refuses every call for a while, then serves (trial of issue 10: `--max-retry-wait
 * 20s` against 15 s of `Retry-After: 5`; 3 of 20 images failed RATE_LIMITED though 20 s > 15 s).
 * No image fails while its budget remains: refused images go first once the pause ends, and
 * the flow does not take a refusal of everything for a cap on calls in flight.
 * Real CLI against a loopback OpenAI-compatible server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, runOpenAiCompatible } from '../support/cli.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { stopWorkFolder } from '../support/stop-work.js';

const NAMES = [
  'invoice1.jpg',
  'invoice2.jpg',
  'invoice3.jpg',
  'invoice4.jpg',
  'invoice5.jpg',
  'car-plate1.jpg',
  'car-plate2.jpg',
  'car-plate3.jpg',
  'car-plate4.jpg',
  'car-plate5.jpg',
  'vin1.jpg',
  'vin2.jpg',
  'vin3.jpg',
  'vin4.jpg',
  'vin5.jpg',
  'construction1.jpg',
  'construction2.jpg',
  'construction3.jpg',
  'construction4.jpg',
  'construction5.jpg',
];
/** The refusing spell, from the first call (ms). */
const REFUSING_MS = 15_000;
let server: CompatibleServer;
let work: string;
let first: number | undefined;
let inFlight = 0;
let maxInFlightAfter = 0;

beforeAll(async () => {
  server = await startCompatibleServer(() => {
    const now = performance.now();
    first ??= now;
    if (now - first < REFUSING_MS) {
      return {
        status: 429,
        headers: { 'retry-after': '5' },
        errorBody: {
          error: {
            message: 'Rate limit reached for requests',
            type: 'requests',
            code: 'rate_limit_exceeded',
          },
        },
      };
    }
    inFlight++;
    maxInFlightAfter = Math.max(maxInFlightAfter, inFlight);
    return {
      content: '{"total": 1}',
      delayMs: 300,
      hold: new Promise<void>((r) =>
        setTimeout(() => {
          inFlight--;
          r();
        }, 300),
      ),
    };
  });
  work = await stopWorkFolder('visionpipe-refusal-window-', NAMES);
});

afterAll(async () => {
  await server?.close();
});

describe('a server that refuses every call for 15 s, then serves', () => {
  it('loses no image with --max-retry-wait 20s', async () => {
    const out = `${work}/results.jsonl`;
    const result = await runOpenAiCompatible('inputs', {
      pattern: 'pattern.json',
      baseUrl: server.baseUrl,
      out,
      extra: ['--cache', 'off', '--max-retry-wait', '20s', '--no-progress'],
      cwd: work,
    });
    expect(result.code, result.stderr).toBe(0);
    const records = await readRecords(out);
    expect(records).toHaveLength(NAMES.length);
    expect(records.filter((r) => r.status !== 'ok')).toEqual([]);
    // The images refused during the spell waited it out, each within its own 20 s.
    const refused = records.filter((r) => r.rate_limited.count > 0);
    expect(refused.length).toBeGreaterThan(1);
    for (const r of refused) {
      expect(r.rate_limited.wait_ms).toBeLessThanOrEqual(20_000);
      expect(r.attempts).toBe(1); // the refusals are not attempts; the call that was read is
    }
    // Out of the spell, calls went several at once, not one by one.
    expect(maxInFlightAfter).toBeGreaterThan(3);
  });
});
