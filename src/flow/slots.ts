/**
 * A pool of `capacity` slots (a counting semaphore with FIFO waiters): what a run's
 * `--concurrency` is. Every input holds one while it is worked on; the pages of a document
 * read page by page take further ones while any are free, so one PDF's pages and the
 * other inputs share one limit and never exceed it.
 */
export class Slots {
  private free: number;
  private readonly waiters: Array<(release: () => void) => void> = [];

  /** `capacity`: most slots held at once, a positive integer. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer (got ${capacity})`);
    this.free = capacity;
  }

  /** Slots held now. */
  get held(): number {
    return this.capacity - this.free;
  }

  /**
   * Resolves with the function that gives the slot back (once; later calls do nothing),
   * in the order callers asked. With `signal`: resolves with undefined when it is aborted
   * before a slot was given (the caller no longer wants one).
   */
  acquire(signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    if (this.free > 0 && this.waiters.length === 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const waiter = (release: () => void) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next(this.releaser());
      else this.free++;
    };
  }
}
