/**
 * The trial of issue 10's servers over real HTTP on 127.0.0.1 (Node http, 100-800 ms a call):
 * a token bucket whose rate falls mid-run, and a leaky bucket whose 429s say `Retry-After: 30`.
 * The real AdaptiveFlow and fetch; the servers stop with the test. Behaviour only, no timing:
 * the fake-clock models (falling-rate, overstated-retry-after) hold the numbers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { parseRetryAfter } from '../../src/flow/retry-after.js';
import { createGate } from '../../src/simulator/zoo.js';
import { startServer, type TestServer } from '../support/http.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server admitting by `admit(now)` (ms): 200 after 100-800 ms, or 429 with `refusal` headers at once. */
async function serve(admit: (now: number) => boolean, refusal: Record<string, string>): Promise<TestServer> {
  const server = await startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!admit(performance.now())) {
        res.writeHead(429, refusal).end();
        return;
      }
      setTimeout(() => res.writeHead(200).end('{}'), 100 + Math.random() * 700);
    });
  });
  servers.push(server);
  return server;
}

/** `calls` calls through the flow, `width` at once; the pauses refusals set (ms; one lengthened by an echo counts once). */
async function run(url: string, calls: number, width: number) {
  const flow = new AdaptiveFlow({ maxConcurrency: width });
  const pauses: number[] = [];
  let pauseEnd = 0;
  let ok = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < calls) {
        next++;
        for (;;) {
          const slot = await flow.admit();
          slot.started();
          const response = await fetch(url, { method: 'POST', body: '{}' });
          slot.answered(response.status);
          await response.text();
          if (response.ok) {
            slot.done({ kind: 'ok' });
            ok++;
            break;
          }
          slot.done({ kind: 'throttled', retryAfterMs: parseRetryAfter(response.headers) });
          const end = performance.now() + flow.pausedMs;
          if (flow.pausedMs > 0 && end > pauseEnd + 50) pauses.push(flow.pausedMs);
          pauseEnd = Math.max(pauseEnd, end);
        }
      }
    }),
  );
  flow.close();
  return { ok, pauses, flow };
}

describe('over real HTTP', () => {
  it('a token bucket falling from 20/s to 6/s: every call served, and the flow paces at the new rate', async () => {
    let first: number | undefined;
    let last: number | undefined;
    let tokens = 20;
    const server = await serve((now) => {
      first ??= now;
      tokens = Math.min(20, tokens + ((now - (last ?? now)) / 1000) * (now - first < 2000 ? 20 : 6));
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    }, {});
    const { ok, flow } = await run(server.url, 80, 10);
    expect(ok).toBe(80);
    expect(flow.state.rate).toBeLessThan(8);
  }, 60_000);

  it('a leaky bucket of 8/s saying Retry-After: 30: the long wait is tested once, then refusals pause briefly', async () => {
    const gate = createGate({ shape: 'leaky-bucket', rps: 8, burst: 2 });
    const server = await serve((now) => gate.enter(now).admitted, { 'retry-after': '30' });
    const { ok, pauses } = await run(server.url, 60, 10);
    expect(ok).toBe(60);
    expect(pauses.length).toBeGreaterThan(1);
    // Before: every refusal was tested anew, a 1 s pause each. The first is (the probe's).
    expect(pauses.filter((ms) => ms >= 900).length).toBeLessThanOrEqual(1);
    expect(Math.max(...pauses)).toBeLessThan(30_000);
  }, 60_000);
});
