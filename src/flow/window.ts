/**
 * A sliding concurrency window over a stream of work: at most `concurrency` items in
 * flight, and a new item starts the moment any one finishes — never chunks that wait
 * for their slowest member. Items are pulled from the source only when a slot is free,
 * so an unbounded input stream is never held in memory; results come out in
 * completion order.
 */

export interface WindowOptions {
  /** When aborted, no new item starts; items already running finish and are yielded. */
  stop?: AbortSignal;
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export async function* mapWindow<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  run: (item: T, index: number) => Promise<R>,
  options: WindowOptions = {},
): AsyncGenerator<R, void, undefined> {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer (got ${concurrency})`);
  }
  const iterator =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (source as Iterable<T>)[Symbol.iterator]();
  const completed: Settled<R>[] = [];
  let wake: (() => void) | undefined;
  let running = 0;
  let exhausted = false;
  let index = 0;

  const settle = (result: Settled<R>) => {
    running--;
    completed.push(result);
    wake?.();
  };

  const fill = async () => {
    while (!exhausted && running < concurrency && !options.stop?.aborted) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      running++;
      run(next.value, index++).then(
        (value) => settle({ ok: true, value }),
        (error: unknown) => settle({ ok: false, error }),
      );
    }
  };

  try {
    await fill();
    while (running > 0 || completed.length > 0) {
      if (completed.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      const result = completed.shift()!;
      // Refill before handing the result out, so the slot is busy while the consumer works.
      await fill();
      if (!result.ok) throw result.error;
      yield result.value;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
