/**
 * The pages of one document read side by side: a bounded pipeline. One worker always
 * runs on the slot the document's input holds; while pages remain, further workers start
 * on slots taken from the run's pool (`Slots`, the run's `--concurrency`), so a PDF's
 * pages are sent concurrently when the run has room and one by one when it has none.
 * Pages are produced on demand, one at a time (a document renders one page at a time),
 * one ahead of the workers: at most workers + 1 rendered pages are alive, whatever the
 * page count.
 */
import type { Slots } from '../flow/slots.js';

/**
 * Runs `work` on every value `produce` gives until it gives undefined. `produce` calls
 * never overlap; `work` calls run on up to 1 + (slots taken from `slots`) workers. An error
 * thrown by `produce` or `work` stops the workers taking more and is rethrown once all
 * have stopped.
 */
export async function runPageWorkers<T>(
  produce: () => Promise<T | undefined>,
  work: (value: T) => Promise<void>,
  slots: Slots | undefined,
): Promise<void> {
  let chain: Promise<unknown> = Promise.resolve();
  let ended = false;
  let failure: { error: unknown } | undefined;
  /** Serialized: one produce at a time, in order. */
  const pull = (): Promise<T | undefined> => {
    const next = chain.then(() => (ended ? undefined : produce()));
    chain = next.catch(() => {});
    return next;
  };
  // One page rendered ahead of the workers, so a free worker never waits for its render.
  let ahead: Promise<T | undefined> | undefined;
  const next = (): Promise<T | undefined> => {
    const mine = ahead ?? pull();
    ahead = pull();
    // A prefetch nobody takes (the document ended) must not be an unhandled rejection.
    ahead.catch(() => {});
    return mine;
  };
  const worker = async () => {
    while (!ended && !failure) {
      let value: T | undefined;
      try {
        value = await next();
      } catch (error) {
        failure ??= { error };
        break;
      }
      if (value === undefined) {
        ended = true;
        break;
      }
      try {
        await work(value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const stopAsking = new AbortController();
  const extras: Array<Promise<void>> = [];
  const asking = (async () => {
    if (!slots) return;
    while (!ended && !failure) {
      const release = await slots.acquire(stopAsking.signal);
      if (!release) return;
      if (ended || failure) {
        release();
        return;
      }
      extras.push(worker().finally(release));
    }
  })();
  await worker();
  stopAsking.abort();
  await asking;
  await Promise.all(extras);
  await ahead?.catch(() => undefined);
  if (failure) throw failure.error;
}
