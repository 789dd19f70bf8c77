/**
 * A sliding log over HTTP (issue 10): the server admits a call some milliseconds after
 * the client sent it (the body's upload, a busy event loop), so the window the flow
 * learns from its own send times is short by that jitter and, emulating the log, it
 * meets refusals the flow-only loop never sees. Such a refusal must cost one retried call,
 * not a whole second: the refused call never entered the server's log, and the
 * Retry-After is the reset rounded up to whole seconds. A real loopback server on
 * 127.0.0.1 with a sliding log (10 calls in any 500 ms, IETF RateLimit headers) that
 * admits each call 0, 40 or 80 ms after it arrives. The same rounding makes the first
 * refusal (nothing learned yet) probe half a second early rather than idle a whole second.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { parseRateLimitHeaders } from '../../src/flow/rate-limit-headers.js';
import { parseRetryAfter } from '../../src/flow/retry-after.js';

const LIMIT = 10;
const WINDOW_MS = 500;
const JITTER_MS = [0, 40, 80];

let server: Server | undefined;

afterEach(async () => {
  server?.close();
  server?.closeAllConnections();
  server = undefined;
});

async function slidingLogServer(): Promise<{ url: string; refused: () => number }> {
  const log: number[] = [];
  let arrivals = 0;
  let refused = 0;
  server = createServer((req, res) => {
    const jitter = JITTER_MS[arrivals++ % JITTER_MS.length]!;
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        const now = performance.now();
        while (log.length > 0 && log[0]! + WINDOW_MS <= now) log.shift();
        const admitted = log.length < LIMIT;
        if (admitted) log.push(now);
        const resetMs = log.length === 0 ? 0 : log[0]! + WINDOW_MS - now;
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'ratelimit-limit': String(LIMIT),
          'ratelimit-remaining': String(LIMIT - log.length),
          'ratelimit-reset': String(Math.ceil(resetMs / 1000)),
        };
        if (!admitted) {
          refused++;
          headers['retry-after'] = String(Math.max(1, Math.ceil(resetMs / 1000)));
        }
        // Answers take 20 ms: long enough that calls overlap.
        setTimeout(() => res.writeHead(admitted ? 200 : 429, headers).end('{}'), 20);
      }, jitter);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, refused: () => refused };
}

describe('sliding log over HTTP, admissions lagging the sends', () => {
  // Retried: with 500 ms windows and 20 ms answers, an event-loop stall of a loaded machine
  // (a whole-suite run on 2 cores) can move calls across the window; seen once in a run of 55 test files beside other work.
  it('a refusal the learned log did not foresee widens the window and holds far less than the Retry-After', {
    retry: 2,
    timeout: 60_000,
  }, async () => {
    const { url, refused } = await slidingLogServer();
    const flow = new AdaptiveFlow({ maxConcurrency: 8 });
    /** Per refusal met while the log was learned: the Retry-After named, the hold after it, the window before and after. */
    const seen: Array<{ retryAfterMs: number; holdMs: number; before: number; after: number | undefined }> =
      [];
    let ok = 0;
    /** The first refusal of the run (the log not learned yet): its Retry-After and the hold after it. */
    let first: { retryAfterMs: number; holdMs: number } | undefined;
    const call = async (): Promise<void> => {
      for (;;) {
        const slot = await flow.admit();
        const response = await fetch(url, { method: 'POST', body: 'x' });
        await response.arrayBuffer();
        const rateLimit = parseRateLimitHeaders('openai', response.headers);
        if (response.ok) {
          slot.done({ kind: 'ok', rateLimit });
          ok++;
          return;
        }
        const retryAfterMs = parseRetryAfter(response.headers) ?? 0;
        const before = flow.state.logWindowMs;
        slot.done({ kind: 'throttled', retryAfterMs, rateLimit });
        first ??= { retryAfterMs, holdMs: flow.holdMs };
        if (before !== undefined)
          seen.push({ retryAfterMs, holdMs: flow.holdMs, before, after: flow.state.logWindowMs });
      }
    };
    // 120 calls, 8 at a time: about six seconds of a 20-per-second log.
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < 120) {
          next++;
          await call();
        }
      }),
    );
    flow.close();
    expect(ok).toBe(120);
    // Whole-second Retry-After and RateLimit-Reset: the log has room somewhere in that last
    // second, and a sliding log gives calls back one by one from then on. The flow probes
    // half a second early rather than idling the whole rounded-up second.
    expect(first?.retryAfterMs).toBe(1000);
    expect(first!.holdMs).toBeLessThanOrEqual(500);
    // The flow learned the log and emulated it (else it never met a refusal it did not foresee).
    expect(flow.state.logWindowMs).toBeGreaterThan(WINDOW_MS * 0.8);
    // Unforeseen refusals come with a loaded event loop (seen in CI under load); on an idle
    // machine the learned log may foresee every one, so their number is not asserted — each
    // one met is held to the bounds below.
    for (const refusal of seen) {
      if (refusal.holdMs > WINDOW_MS) console.error(seen);
      expect(refusal.retryAfterMs).toBeGreaterThanOrEqual(1000);
      // The log's next room (at most one window away), not the whole-second Retry-After.
      expect(refusal.holdMs).toBeLessThanOrEqual(WINDOW_MS);
    }
    // The first such refusal widened the window: the jitter is learned, not paid again and again.
    if (seen[0]) expect(seen[0].after).toBeGreaterThan(seen[0].before);
    expect(refused()).toBeLessThan(0.1 * 120);
  });
});
