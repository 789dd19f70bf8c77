/**
 * Drives several AdaptiveFlows, each with its own Redis flow share (its own id, as separate
 * processes would have), against one server gate on vitest's fake clock: the flows learn
 * one budget together through a real Redis, as `visionpipe run` processes sharing the Redis
 * limiter do. Every step advances the fake clock 5 ms and then awaits every script call made
 * so far, so what the flows read from Redis depends on the fake clock only (the share
 * refreshes on it too: the caller fakes `performance` as well as timers and `Date`).
 * Transit and latency are seeded as in flow-drive.ts; each flow may join `startMs` late.
 */
import { vi } from 'vitest';
import { AdaptiveFlow, type AdaptiveFlowOptions } from '../../src/flow/adaptive.js';
import type { FlowShare } from '../../src/flow/flow-share.js';
import { parseRateLimitHeaders } from '../../src/flow/rate-limit-headers.js';
import { parseRetryAfter } from '../../src/flow/retry-after.js';
import { answerFailed, type GateAnswer, seededRandom } from './flow-drive.js';

export interface SharedDriveOptions {
  /** One share per flow (one process each). */
  shares: readonly FlowShare[];
  /** Successful calls each flow makes. */
  calls: number;
  /** Workers per flow. */
  width: number;
  enter: (now: number) => GateAnswer;
  /** Awaits every script call made so far (test/flow/fixtures/awaited-flow-client.ts). */
  settled: () => Promise<void>;
  /** When each flow starts, ms after the first (default all at once). */
  startMs?: readonly number[];
  /** Server time of an accepted call, ms (default 100-500). */
  latencyMs?: readonly [number, number];
  /** Every n-th accepted call is a 5xx (retried); 0 for none (default 20). */
  failEvery?: number;
  flow?: Partial<AdaptiveFlowOptions>;
  seed?: number;
}

export interface SharedDriveRun {
  /** Every request the gate saw: when (ms since the start), from which flow, taken or refused. */
  requests: Array<{ atMs: number; flow: number; admitted: boolean }>;
  wallMs: number;
  flows: AdaptiveFlow[];
}

export async function driveSharedFlows(options: SharedDriveOptions): Promise<SharedDriveRun> {
  const { shares, calls, width, enter, settled } = options;
  const [minLatency, maxLatency] = options.latencyMs ?? [100, 500];
  const failEvery = options.failEvery ?? 20;
  const start = Date.now();
  const random = seededRandom(options.seed ?? 7);
  const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const transit = () => delay(1 + Math.floor(random() * 20));
  const requests: SharedDriveRun['requests'] = [];
  let admitted = 0;
  const flows = shares.map(
    (share) =>
      new AdaptiveFlow({
        maxConcurrency: width,
        peers: () => share.read()?.peers ?? 1,
        share,
        ...options.flow,
      }),
  );
  const call = async (flow: AdaptiveFlow, index: number): Promise<void> => {
    for (;;) {
      const slot = await flow.admit();
      slot.started();
      await transit();
      const verdict = enter(Date.now());
      requests.push({ atMs: Date.now() - start, flow: index, admitted: verdict.admitted });
      const rateLimit = parseRateLimitHeaders('openai', verdict.headers);
      if (verdict.admitted) {
        if (failEvery > 0 && ++admitted % failEvery === 0) {
          await answerFailed(slot, verdict, transit);
          continue;
        }
        await delay(minLatency + Math.floor(random() * (maxLatency - minLatency)));
        verdict.leave?.();
        slot.answered(200);
        await transit();
        slot.done({ kind: 'ok', rateLimit });
        return;
      }
      slot.answered(429);
      await transit();
      slot.done({ kind: 'throttled', retryAfterMs: parseRetryAfter(verdict.headers), rateLimit });
    }
  };
  let running = flows.length;
  flows.forEach((flow, index) => {
    let next = 0;
    void delay(options.startMs?.[index] ?? 0)
      .then(() =>
        Promise.all(
          Array.from({ length: width }, async () => {
            while (next < calls) {
              next++;
              await call(flow, index);
            }
          }),
        ),
      )
      .then(() => {
        running--;
      });
  });
  for (let i = 0; i < 100_000 && running > 0; i++) {
    await vi.advanceTimersByTimeAsync(5);
    await settled();
  }
  for (const flow of flows) flow.close();
  if (running > 0) throw new Error('the calls did not all end within the simulated time');
  return { requests, wallMs: Date.now() - start, flows };
}
