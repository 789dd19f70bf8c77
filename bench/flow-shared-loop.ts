/**
 * Three adaptive flows sharing their learned limits through Redis (three Redis limiters,
 * three peer ids, as three processes), against one zoo gate in this process: no HTTP, no
 * images, no worker start-up. The flows are paced by what they learned, not by a loaded
 * CPU, so a shared machine shows flow control here far more than in bench/flow.ts's
 * three-process cells (whose wall time also holds tsx start-up skew between workers).
 *
 *   npm run bench:flow-shared -- [--servers no-headers,token-bucket,lying-headers]
 *                                  [--calls 300] [--runs 3] [--results flow-shared-loop]
 *
 * Each flow has 20 workers and a third of the calls; latency 100-500 ms, 5 % of the
 * calls the gate took fail (5xx, retried). Per run: accepted calls over the gate's rate ×
 * the time from the first send to the last answer (fraction of the ceiling), the share of
 * sends refused, and the most accepted in any one second over the rate.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { AdaptiveFlow } from '../src/flow/adaptive.js';
import { parseRateLimitHeaders } from '../src/flow/rate-limit-headers.js';
import { RedisLimiter } from '../src/flow/redis-limiter.js';
import { parseRetryAfter } from '../src/flow/retry-after.js';
import { createGate, type LimiterShape } from '../src/simulator/zoo.js';
import { fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    servers: { type: 'string', default: 'no-headers,token-bucket,lying-headers' },
    calls: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    redis: { type: 'string', default: process.env.VISIONPIPE_TEST_REDIS ?? 'redis://127.0.0.1:6379' },
    results: { type: 'string', default: 'flow-shared-loop' },
  },
});
const RPS = 25;
const PROCESSES = 3;
const WIDTH = 20;

interface Run {
  server: string;
  fraction_of_ceiling: number;
  refused_share: number;
  /** Most accepted in any one second over the rate (a bucket of one second allows 2). */
  busiest_second: number;
  wall_s: number;
}

async function run(shape: LimiterShape, calls: number): Promise<Run> {
  const gate = createGate({ shape, rps: RPS });
  const prefix = `bench-shared-loop:${randomUUID()}`;
  const limiters = Array.from(
    { length: PROCESSES },
    () => new RedisLimiter({ url: args.redis, prefix, name: 'loop', onWarning: () => {} }),
  );
  const accepted: number[] = [];
  let sends = 0;
  let refused = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await Promise.all(
    limiters.map(async (limiter) => {
      // As the pipeline builds it (src/pipeline/call-controls.ts).
      const share = limiter.flowShare;
      const flow = new AdaptiveFlow({
        maxConcurrency: 1024,
        peers: () => share.read()?.peers ?? limiter.peers,
        share,
      });
      let next = 0;
      const mine = Math.round(calls / PROCESSES);
      await Promise.all(
        Array.from({ length: WIDTH }, async () => {
          while (next < mine) {
            next++;
            for (;;) {
              const slot = await flow.admit();
              await limiter.acquire({ requests: 1 });
              slot.started();
              const at = Date.now();
              first = Math.min(first, at);
              sends++;
              const verdict = gate.enter(at);
              if (!verdict.admitted) {
                refused++;
                slot.answered(429);
                slot.done({
                  kind: 'throttled',
                  retryAfterMs: parseRetryAfter(verdict.headers),
                  rateLimit: parseRateLimitHeaders('openai', verdict.headers),
                });
                await sleep(1);
                continue;
              }
              accepted.push(at);
              await sleep(100 + Math.random() * 400);
              verdict.leave();
              last = Date.now();
              if (Math.random() < 0.05) {
                slot.answered(500);
                slot.done({ kind: 'failed' });
                continue;
              }
              slot.answered(200);
              slot.done({ kind: 'ok', rateLimit: parseRateLimitHeaders('openai', verdict.headers) });
              break;
            }
          }
        }),
      );
      flow.close();
      await limiter.close();
    }),
  );
  const admin = new Redis(args.redis);
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
  admin.disconnect();
  let busiest = 0;
  for (let i = 0, j = 0; i < accepted.length; i++) {
    while (accepted[i]! - accepted[j]! >= 1000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  const wallMs = last - first;
  return {
    server: shape,
    fraction_of_ceiling: accepted.length / ((RPS * wallMs) / 1000),
    refused_share: refused / sends,
    busiest_second: busiest / RPS,
    wall_s: wallMs / 1000,
  };
}

const results: Run[] = [];
for (const server of args.servers.split(',') as LimiterShape[]) {
  for (let i = 0; i < Number(args.runs); i++) {
    const result = await run(server, Number(args.calls));
    results.push(result);
    process.stderr.write(
      `${server}: ${fmt(result.fraction_of_ceiling)} of ceiling, ${fmt(result.refused_share * 100, 1)} % refused\n`,
    );
  }
}
printTable(
  `Three flows sharing limits through Redis against one gate (${args.calls} calls, ${RPS}/s, c${WIDTH} each)`,
  ['server', 'ceiling', 'refused', 'busiest s', 'wall s'],
  results.map((r) => [
    r.server,
    fmt(r.fraction_of_ceiling),
    `${fmt(r.refused_share * 100, 1)} %`,
    fmt(r.busiest_second),
    fmt(r.wall_s, 1),
  ]),
);
const file = await writeResults(args.results, {
  note: 'flow-only loop: 3 AdaptiveFlows + 3 RedisLimiters (shared learned limits) against one zoo gate in-process; machine shared with other jobs',
  rps: RPS,
  calls: Number(args.calls),
  results,
});
console.log(`\nwritten ${file}`);
