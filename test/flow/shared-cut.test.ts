/**
 * What a shared cut sets the processes' rate to (issue 10, three processes on one budget
 * through Redis). Processes seldom take equal shares of a server: one that a pause held
 * back, or that has less work, takes less than the others. Its refusal used to set the
 * shared total to its own take times the peer count, and every process adopted a third of
 * that: on the no-headers bench server (25/s) the three ran at 2.6/s each, 0.52 of the
 * ceiling, creeping back at 3 % a second. Every process now reports what the server took
 * from it, and a cut scales the sum of those reports. A process that is done leaves, and
 * the others take its share.
 *
 * Deterministic: real Redis on 127.0.0.1:6379 (a unique key prefix), three flows on a
 * manual clock, each with its own share (own id, as three processes would have); every
 * script call is awaited before the next step.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { RedisFlowShare } from '../../src/flow/flow-share.js';
import { useFlowRedis } from '../support/flow-redis.js';
import { awaitedFlowClient } from './fixtures/awaited-flow-client.js';

const redis = useFlowRedis();

/** Three shares on one fresh hash whose script calls can all be awaited. */
function threeShares() {
  const prefix = redis.prefix();
  const keys = [`${prefix}:flow`, `${prefix}:peers`] as const;
  const { client, settled } = awaitedFlowClient(redis.client());
  // refreshMs 0: every admission reads (and reports), so the test decides when.
  // A cut window of a minute: what falls in it does not depend on how fast this machine is.
  const shares = ['a', 'b', 'c'].map(
    (id) => new RedisFlowShare({ client, keys, id, refreshMs: 0, cutWindowMs: 60_000 }),
  );
  return { keys, shares, settled };
}

describe('a shared cut (Redis)', () => {
  it('scales what all processes took, not the cutter’s take times the peers; a process that leaves gives up its share', async () => {
    const { keys, shares, settled } = threeShares();
    // What an earlier run learned: 30/s for all (version 1, cut long ago); every process
    // joins from it at 10/s, and all three heartbeat first so each counts three peers.
    await redis
      .client()
      .hset(keys[0], { rate: '30', concurrency: '24', version: '1', cutAt: '0', cutBy: 'x' });
    for (let round = 0; round < 2; round++) {
      for (const share of shares) share.read();
      await settled();
    }
    let now = 0;
    const flows = shares.map(
      (share) => new AdaptiveFlow({ maxConcurrency: 20, share, peers: () => 3, now: () => now }),
    );
    const [a, b, c] = flows as [AdaptiveFlow, AdaptiveFlow, AdaptiveFlow];
    // Two seconds: a and b send at their 10/s, c (less work) one call every 400 ms; all
    // answered 50 ms later.
    let answers: Array<{ at: number; answer: () => void }> = [];
    for (now = 0; now < 2000; now += 50) {
      for (const [flow, every] of [
        [a, 100],
        [b, 100],
        [c, 400],
      ] as const) {
        if (now % every !== 0) continue;
        const slot = await flow.admit();
        answers.push({ at: now + 50, answer: () => slot.done({ kind: 'ok' }) });
      }
      for (const due of answers.filter((p) => p.at <= now)) due.answer();
      answers = answers.filter((p) => p.at > now);
      await settled();
    }
    expect(a.state.rate).toBeCloseTo(10, 5);
    expect(c.state.sharedCuts).toBe(1);
    // c's next call is refused: the server's bucket is spent by a and b.
    const refused = await c.admit();
    now += 10;
    refused.done({ kind: 'throttled' });
    await settled();
    const learned = await redis.client().hgetall(keys[0]);
    expect(learned.cutBy).toBe('c');
    expect(learned.version).toBe('2');
    // The server took ~9.5 + 9.5 + 2.5 calls/s; 0.9 of that. Before: 0.9 × c's 2.5 × 3 = 6.8.
    const total = Number(learned.rate);
    expect(total).toBeGreaterThan(17);
    expect(total).toBeLessThan(21);
    // Everyone, the cutter included, takes a third of it (a: from 10/s to ~6.3, not 2.3).
    // (The shared pause runs on the real clock: let it pass before the next sends.)
    await new Promise((resolve) => setTimeout(resolve, 600));
    for (const answer of answers) answer.answer();
    for (const step of [0, 1]) {
      now += 1000;
      for (const flow of flows) (await flow.admit()).done({ kind: 'ok' });
      await settled();
      if (step === 1) for (const flow of flows) expect(flow.state.rate).toBeCloseTo(total / 3, 1);
    }
    // a's next call is refused too, in the same event (the cut window): for the shared
    // limits a's cut, from its own sparse take, is that event's echo, and a goes back to
    // its share instead of staying at its own cut (0.9 × its share here).
    now += 1000;
    const late = await a.admit();
    now += 10;
    late.done({ kind: 'throttled', retryAfterMs: 100 });
    await settled();
    expect(a.state.rate).toBeLessThan((0.95 * total) / 3);
    await new Promise((resolve) => setTimeout(resolve, 400)); // its shared pause, real time
    now += 1000;
    (await a.admit()).done({ kind: 'ok' });
    expect(a.state.rate).toBeCloseTo(total / 3, 1);
    expect((await redis.client().hgetall(keys[0])).version).toBe('2');
    // c is done and leaves: a and b take its share at their next read, not once its
    // heartbeat has aged out (5 s of a third of the budget unused: the bench's tail).
    c.close();
    await shares[2]!.leave();
    for (const step of [0, 1]) {
      now += 1000;
      for (const flow of [a, b]) (await flow.admit()).done({ kind: 'ok' });
      await settled();
      if (step === 1) for (const flow of [a, b]) expect(flow.state.rate).toBeCloseTo(total / 2, 1);
    }
    for (const flow of flows) flow.close();
  });
});
