/**
 * Cross-process in-flight claims on a shared cache. Two processes (two runs, two machines,
 * two service workers) sharing a Redis cache must not both pay for the same content key:
 * the first to miss takes a claim (`SET claim:<key> <token> NX PX <lease>`), renews it while
 * its call runs and releases it when the result is saved; the others wait, reading the
 * cache, and take the result instead of calling. A claim that is not renewed (its process
 * was killed) expires after its lease and the next waiter takes over and pays.
 *
 * The SQLite store (sqlite-store.ts) holds the same claims in a `claims` table, for processes
 * sharing one state folder; there a claim whose process is gone (same host) is taken over at
 * once, without waiting for its lease. Waiters poll with backoff (25 ms doubling up to
 * `pollMs`); a claim that stays held past its lease is taken over by the next try.
 *
 * Single-flight (single-flight.ts) does the same within one process; claims extend it
 * across processes. When the claim store is unreachable, work goes on unclaimed (the
 * failover cache keeps the run going; a duplicate call is the lesser harm).
 */
import { randomUUID } from 'node:crypto';

/** Where claims live (RedisStore and SqliteStore implement it). */
export interface ClaimStore {
  /** Takes `key` for `leaseMs` if nobody holds it; true when taken. */
  tryClaim(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Extends a claim this token still holds; false when it was lost (expired, taken over). */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Gives a claim up if this token still holds it. */
  release(key: string, token: string): Promise<void>;
}

export interface ClaimOptions {
  /** Lease of a claim, ms: how long a killed holder keeps others waiting. Default 30 000. */
  leaseMs?: number;
  /**
   * Longest pause of a waiter between two reads of the cache (and tries of the claim), ms:
   * pauses start at 25 ms (or this, when smaller) and double up to it. Default 500.
   */
  pollMs?: number;
  /** Longest a waiter waits in total before doing the work itself, ms. Default 15 minutes. */
  maxWaitMs?: number;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_CLAIM_LEASE_MS = 30_000;
const DEFAULT_POLL_MS = 500;
const FIRST_POLL_MS = 25;
const DEFAULT_MAX_WAIT_MS = 15 * 60_000;

/** What `claimed` returns: the work's value, or the value another process stored. */
export type Claimed<T, S> = { kind: 'own'; value: T } | { kind: 'shared'; value: S };

/**
 * Runs `work` under a claim on `key`, unless `lookup` finds what another process stored
 * for it, before or while waiting for that process's claim. `work` runs at most once;
 * its claim is renewed every third of the lease and released when it settles.
 * Errors of `work` propagate (the claim is released, so a waiter takes over).
 */
export async function claimed<T, S>(
  store: ClaimStore,
  key: string,
  lookup: () => Promise<S | undefined>,
  work: () => Promise<T>,
  options: ClaimOptions = {},
): Promise<Claimed<T, S>> {
  const leaseMs = options.leaseMs ?? DEFAULT_CLAIM_LEASE_MS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const deadline = Date.now() + (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
  const token = randomUUID();
  let pauseMs = Math.min(FIRST_POLL_MS, pollMs);
  for (;;) {
    let taken: boolean;
    try {
      taken = await store.tryClaim(key, token, leaseMs);
    } catch {
      return { kind: 'own', value: await work() }; // claims unreachable: work unclaimed
    }
    // Checked after the claim too: the holder may have saved and released in between.
    const stored = await lookup();
    if (stored !== undefined) {
      if (taken) await store.release(key, token).catch(() => {});
      return { kind: 'shared', value: stored };
    }
    if (taken) return { kind: 'own', value: await holding(store, key, token, leaseMs, work) };
    if (Date.now() >= deadline || options.signal?.aborted) return { kind: 'own', value: await work() };
    await pause(pauseMs, options.signal);
    pauseMs = Math.min(pollMs, pauseMs * 2);
  }
}

async function holding<T>(
  store: ClaimStore,
  key: string,
  token: string,
  leaseMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const renewal = setInterval(
    () => {
      store.renew(key, token, leaseMs).catch(() => false);
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  renewal.unref();
  try {
    return await work();
  } finally {
    clearInterval(renewal);
    await store.release(key, token).catch(() => {});
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
