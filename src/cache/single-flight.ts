/**
 * Single-flight: concurrent requests for the same key share one in-flight call. The
 * first caller (the leader) runs it; followers await the same promise and know they
 * followed, so the pipeline can mark their records `dedup` and bill them nothing.
 */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  run(key: string, task: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const existing = this.inflight.get(key);
    if (existing) return { promise: existing, leader: false };
    const promise = task().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return { promise, leader: true };
  }

  /** The in-flight call for `key`, if any. */
  pending(key: string): Promise<T> | undefined {
    return this.inflight.get(key);
  }

  get size(): number {
    return this.inflight.size;
  }
}
