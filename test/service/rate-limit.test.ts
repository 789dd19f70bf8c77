/**
 * The per-key limit on a real Redis, judged on Redis's own clock: no window of the
 * interval ever lets more than the limit through, refusals say when to come back, keys
 * and API processes (separate clients) share one budget per key.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { KeyRateLimiter } from '../../src/service/rate-limit.js';
import { clearRedisPrefix, REDIS_URL } from '../support/service.js';

const prefix = `vprl-${process.pid}-${randomUUID().slice(0, 8)}`;
const clients: Redis[] = [];
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await clearRedisPrefix(prefix);
});

function limiter(limit: number, intervalMs: number): KeyRateLimiter {
  const client = new Redis(REDIS_URL);
  clients.push(client);
  return new KeyRateLimiter(client, { limit, intervalMs, prefix });
}

it('never lets more than the limit through in any window, across processes sharing the key', async () => {
  const [a, b] = [limiter(10, 1000), limiter(10, 1000)];
  const granted: number[] = [];
  let refused = 0;
  const end = Date.now() + 2500;
  while (Date.now() < end) {
    const decisions = await Promise.all([a.take('key-1'), b.take('key-1')]);
    for (const d of decisions) {
      if (d?.allowed) granted.push(d.at);
      else if (d) {
        refused++;
        expect(Number(d.headers['retry-after'])).toBe(1);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  granted.sort((x, y) => x - y);
  const busiest = Math.max(...granted.map((t) => granted.filter((u) => u >= t && u < t + 1000).length));
  expect(busiest).toBeLessThanOrEqual(10);
  // It is a limit, not a wall: over 2.5 s about 5 + 2.5 × 5 requests go.
  expect(granted.length).toBeGreaterThanOrEqual(12);
  expect(refused).toBeGreaterThan(0);
  // Another key has its own budget.
  expect((await a.take('key-2'))?.allowed).toBe(true);
});

it('lets a burst of half the limit go at once, then refuses: whole requests only', async () => {
  const fresh = limiter(10, 60_000);
  const decisions = [];
  for (let i = 0; i < 7; i++) decisions.push(await fresh.take('burst'));
  expect(decisions.map((d) => d?.allowed)).toEqual([true, true, true, true, true, false, false]);
  expect(decisions.map((d) => d?.headers['x-ratelimit-remaining'])).toEqual([
    '4',
    '3',
    '2',
    '1',
    '0',
    '0',
    '0',
  ]);
  // One request's worth comes back every (60 s / 5 spread requests) = 12 s.
  expect(Number(decisions[5]?.headers['retry-after'])).toBeGreaterThan(10);
  expect(Number(decisions[5]?.headers['retry-after'])).toBeLessThanOrEqual(12);
});

it('processes with different limits keep their own bucket per key: one at its limit does not refuse the other', async () => {
  const [strict, loose] = [limiter(4, 60_000), limiter(1000, 60_000)];
  expect((await strict.take('mixed'))?.allowed).toBe(true);
  expect((await strict.take('mixed'))?.allowed).toBe(true);
  expect((await strict.take('mixed'))?.allowed).toBe(false);
  // One shared bucket would be 30 s in debt for both rates (each burst is half the interval).
  const other = await loose.take('mixed');
  expect(other?.allowed).toBe(true);
  expect(other?.headers['x-ratelimit-limit']).toBe('1000');
});

it('refuses limits too small to keep exactly', () => {
  expect(() => limiter(3, 60_000)).toThrow(/at least 4/);
});
