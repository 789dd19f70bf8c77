/**
 * A sliding window whose work items emit results as they finish, not when the item does:
 * an input may give several results (a document's pages), and each leaves the window the
 * moment it is made, so a process killed mid-document has handed out its finished pages.
 * Every item holds one of `concurrency` slots while it runs; the item may take more from
 * the same pool (`slots`) for its parts, within the same limit.
 */
import { Slots } from './slots.js';
import { mapWindow, type WindowOptions } from './window.js';

/**
 * Runs `run(item, emit, slots)` for each item of `source`, at most `concurrency` slots
 * held at once, and yields every value passed to `emit` in the order emitted. An error
 * thrown by `run` ends the stream with it (after the values emitted before it).
 */
export async function* streamWindow<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  run: (item: T, emit: (value: R) => void, slots: Slots) => Promise<void>,
  options: WindowOptions = {},
): AsyncGenerator<R, void, undefined> {
  const slots = new Slots(concurrency);
  const ready: R[] = [];
  let wake: (() => void) | undefined;
  const emit = (value: R) => {
    ready.push(value);
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const drained: { done: boolean; error?: { error: unknown } } = { done: false };
  const drain = (async () => {
    for await (const _ of mapWindow(
      source,
      concurrency,
      async (item) => {
        // The window pulls at most `concurrency` items; a slot may still be held by another
        // item's pages, and then this one waits for it.
        const release = (await slots.acquire())!;
        try {
          await run(item, emit, slots);
        } finally {
          release();
        }
      },
      options,
    ));
  })().then(
    () => {
      drained.done = true;
    },
    (error: unknown) => {
      drained.done = true;
      drained.error = { error };
    },
  );
  for (;;) {
    const next = ready.shift();
    if (next !== undefined) {
      yield next;
      continue;
    }
    if (drained.done) {
      if (drained.error) throw drained.error.error;
      return;
    }
    await Promise.race([
      new Promise<void>((resolve) => {
        wake = resolve;
      }),
      drain,
    ]);
  }
}
