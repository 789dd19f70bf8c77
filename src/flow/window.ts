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
  // The source is pulled in the background: a slow source (a watched folder, a pipe) never
  // holds back results that are ready. One pull at a time; a failed pull ends the stream.
  let pulling = false;
  let pullError: { error: unknown } | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };

  const settle = (result: Settled<R>) => {
    running--;
    completed.push(result);
    pump();
    notify();
  };

  const canPull = () => !exhausted && !pullError && running < concurrency && !options.stop?.aborted;

  const fill = async () => {
    while (canPull()) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      // A stop that came while the pull waited (a source holding items back: the cost
      // budget's gate, a watched folder) starts nothing: the item pulled is left unstarted.
      if (options.stop?.aborted) break;
      running++;
      run(next.value, index++).then(
        (value) => settle({ ok: true, value }),
        (error: unknown) => settle({ ok: false, error }),
      );
    }
  };

  function pump(): void {
    if (pulling || !canPull()) return;
    pulling = true;
    fill().then(
      () => {
        pulling = false;
        notify();
      },
      (error: unknown) => {
        pulling = false;
        pullError = { error };
        notify();
      },
    );
  }

  try {
    pump();
    while (true) {
      const result = completed.shift();
      if (result) {
        // Refill before handing the result out, so the slot is busy while the consumer works.
        pump();
        if (!result.ok) throw result.error;
        yield result.value;
        continue;
      }
      if (pullError && running === 0) throw pullError.error;
      if (running === 0 && !pulling && !canPull()) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    // A pull still waiting (a watched folder) ends when its source does: do not wait for it.
    if (!exhausted && !pulling) await iterator.return?.();
    else if (!exhausted) Promise.resolve(iterator.return?.()).catch(() => {});
  }
}
