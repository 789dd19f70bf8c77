import { describe, expect, it } from 'vitest';
import { mapWindow } from '../../src/flow/window.js';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('mapWindow', () => {
  it('starts the next item the moment any one finishes (a window, not chunks)', async () => {
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const results: number[] = [];
    const consumer = (async () => {
      for await (const value of mapWindow([0, 1, 2, 3, 4], 2, async (item) => {
        started.push(item);
        await gates[item]!.promise;
        return item;
      })) {
        results.push(value);
      }
    })();
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve(); // the fast one finishes while 0 is still slow
    await tick();
    expect(started).toEqual([0, 1, 2]); // chunked batching would wait for 0 here
    gates[2]!.resolve();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    gates[3]!.resolve();
    gates[4]!.resolve();
    await tick();
    await tick();
    expect(results).toEqual([1, 2, 3, 4]); // all finished while item 0 still runs
    gates[0]!.resolve();
    await consumer;
    expect(results).toEqual([1, 2, 3, 4, 0]);
  });

  it('never has more than `concurrency` items in flight and pulls the source lazily', async () => {
    let inFlight = 0;
    let peak = 0;
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 50; i++) {
        pulled++;
        yield i;
      }
    }
    let seen = 0;
    for await (const _ of mapWindow(source(), 4, async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      inFlight--;
    })) {
      seen++;
      expect(pulled - seen).toBeLessThanOrEqual(4 + 1);
    }
    expect(seen).toBe(50);
    expect(peak).toBe(4);
  });

  it('stops starting new items once the stop signal fires, finishing those in flight', async () => {
    const stop = new AbortController();
    const done: number[] = [];
    for await (const value of mapWindow(
      Array.from({ length: 20 }, (_, i) => i),
      3,
      async (item) => {
        if (item === 4) stop.abort();
        await tick();
        return item;
      },
      { stop: stop.signal },
    )) {
      done.push(value);
    }
    expect(done.length).toBeLessThan(20);
    expect(done).toContain(4);
    expect(new Set(done).size).toBe(done.length);
  });

  it('rejects a bad concurrency', async () => {
    await expect(mapWindow([1], 0, async (x) => x).next()).rejects.toThrow(/concurrency/);
  });
});
