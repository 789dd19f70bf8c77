/**
 * A server whose 429s name a wait shorter than the real one ("Please try again in 1s." while
 * it refuses everything for 6 s) is not believed once its own refusal disproves it: the next
 * wait doubles (1, 2, 4 s) until a call after it is answered, so the refusals come in 3-4
 * waves, not one a second (trial of issue 10: 56 % of requests refused). Real CLI, loopback server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompatibleServer, type Reply, startCompatibleServer } from '../support/openai-compatible.js';
import { runInFolder, stopWorkFolder } from '../support/stop-work.js';

const NAMES = ['invoice', 'car-plate', 'vin'].flatMap((kind) => [1, 2, 3, 4].map((i) => `${kind}${i}.jpg`));
/** How long the server refuses everything after its first refusal (ms). */
const SHUT_MS = 6_500;
let server: CompatibleServer;
let work: string;
let shutAt: number | undefined;
/** When each refused call reached the server (performance.now() ms). */
const refusedAt: number[] = [];

beforeAll(async () => {
  server = await startCompatibleServer((_call, n): Reply => {
    const now = performance.now();
    if (n > 3 && shutAt === undefined) shutAt = now;
    if (shutAt !== undefined && now - shutAt < SHUT_MS) {
      refusedAt.push(now);
      return {
        status: 429,
        errorBody: {
          error: {
            message:
              'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.',
            type: 'requests',
            code: 'rate_limit_exceeded',
          },
        },
      };
    }
    return { content: '{"total": 1}', delayMs: 100 };
  });
  work = await stopWorkFolder('visionpipe-understated-wait-', NAMES);
});

afterAll(async () => {
  await server?.close();
});

describe('a 429 naming a wait shorter than the real one', () => {
  it('is distrusted once a refusal right after it disproves it: the waits grow, the refusals come in few waves', async () => {
    const out = `${work}/results.jsonl`;
    const records = await runInFolder(
      work,
      server.baseUrl,
      out,
      ['--concurrency', '4', '--max-retry-wait', '60s'],
      60_000,
    );
    expect(records.filter((r) => r.status === 'ok')).toHaveLength(NAMES.length);
    // A wave: refusals less than 500 ms after the one before. Believing "1s" each time sends
    // one every second of the 6.5 s (7 waves); growing 1, 2, 4 s: the first refusals, and
    // at 1 s and 3 s after them (and 7 s is past the shut).
    const waves = refusedAt.filter((at, i) => i === 0 || at - refusedAt[i - 1]! >= 500).length;
    expect(waves).toBeLessThanOrEqual(4);
  });
});
