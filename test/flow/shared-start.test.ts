/**
 * Three processes starting together on one budget through the Redis flow share (issue 10):
 * on the no-headers bench server (a 25/s bucket of one second, bare 429s) three processes
 * took 1.02 of the ceiling but 13.7 % of their requests were refused, nearly all in the
 * first seconds.
 *
 * Deterministic: real Redis on 127.0.0.1:6379 (a unique key prefix), three flows with a
 * share each (own id) on vitest's fake clock, the script judging its windows by it too;
 * every script call is awaited before the clock moves on (test/support/flow-drive-shared.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisFlowShare } from '../../src/flow/flow-share.js';
import { createGate } from '../../src/simulator/zoo.js';
import { driveSharedFlows } from '../support/flow-drive-shared.js';
import { useFlowRedis } from '../support/flow-redis.js';
import { steppedFlowClient } from './fixtures/stepped-flow-client.js';

const RPS = 25;
const redis = useFlowRedis();

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

function shares(count: number) {
  const prefix = redis.prefix();
  const keys = [`${prefix}:flow`, `${prefix}:peers`] as const;
  const { client, settled } = steppedFlowClient(redis.client());
  const list = Array.from(
    { length: count },
    (_, i) => new RedisFlowShare({ client, keys, id: `p${i}`, serverNow: () => Date.now() }),
  );
  return { shares: list, settled, keys };
}

describe.each(['no-headers', 'token-bucket'] as const)('three processes on one %s budget', (shape) => {
  // Six seeded runs of 100 calls per process at 25/s. Before (main at 495ea45, same model):
  // 0.15-0.25 of the requests in the first second refused, 5.5-7.4 % over the runs.
  it.each([
    { name: 'starting together', startMs: [0, 0, 0] },
    { name: 'joining 0.7 s and 2 s late', startMs: [0, 700, 2000] },
  ])(
    '$name: few refusals in the start-up second, most of the ceiling used',
    async ({ startMs }) => {
      let requests = 0;
      let refused = 0;
      let firstSecond = 0;
      let refusedFirst = 0;
      const ceilings: number[] = [];
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const { shares: list, settled } = shares(3);
        const gate = createGate({ shape, rps: RPS });
        const run = await driveSharedFlows({
          shares: list,
          calls: 100,
          width: 20,
          enter: (now) => gate.enter(now),
          settled,
          startMs,
          seed,
        });
        const taken = run.requests.filter((r) => r.admitted);
        const wallMs = Math.max(...taken.map((r) => r.atMs)) - Math.min(...run.requests.map((r) => r.atMs));
        requests += run.requests.length;
        refused += run.requests.length - taken.length;
        const early = run.requests.filter((r) => r.atMs < 1000);
        firstSecond += early.length;
        refusedFirst += early.filter((r) => !r.admitted).length;
        ceilings.push(taken.length / ((RPS * wallMs) / 1000));
      }
      const ceiling = ceilings.reduce((sum, c) => sum + c, 0) / ceilings.length;
      const summary = `${refused} of ${requests} refused, ${refusedFirst} of ${firstSecond} in the first second; ${fmt(ceiling)} of the ceiling`;
      expect(refusedFirst / firstSecond, summary).toBeLessThan(0.17);
      expect(refused / requests, summary).toBeLessThan(0.055);
      expect(ceiling, summary).toBeGreaterThan(0.85);
    },
    120_000,
  );
});

const fmt = (n: number) => n.toFixed(3);
