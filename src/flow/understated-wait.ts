/**
 * A wait a server names (Retry-After, RetryInfo, OpenAI's "Please try again in 1s.") that
 * the refusal of the first call sent after it disproves is a floor, not the wait: the next
 * wait doubles (never below what the server names, at most `MAX_WAIT_MS`) until the first
 * call sent after one is answered. Per provider (its flow), not per request. (Trial of
 * issue 10: a server refusing for 10 s windows while its 429s said "try again in 1s" was
 * believed each time: a wave of refusals every second, 56 % of requests refused.)
 *
 * Only the first call sent after the wait is its test: after a correct wait a token bucket
 * has room for one call, and the calls released with it are refused though the wait was right.
 */

/** No grown wait is longer (ms): the flow's longest pause (AdaptiveFlow `maxPauseMs`). */
const MAX_WAIT_MS = 60_000;

interface NamedWait {
  /** When the wait ends (performance.now() ms). */
  until: number;
  /** The wait given (ms): the server's, or grown after it was disproved. */
  waitMs: number;
  /** The first call sent after `until` went (its answer tests the wait). */
  tested: boolean;
}

const waits = new WeakMap<object, NamedWait>();

/**
 * A call to `provider` is sent at `at` (performance.now() ms).
 * @returns true when it is the first sent after the provider's latest named wait: its answer tests that wait.
 */
export function sentAfterWait(provider: object, at: number): boolean {
  const wait = waits.get(provider);
  if (wait === undefined || wait.tested || at < wait.until) return false;
  wait.tested = true;
  return true;
}

/**
 * The wait (ms) to take for a refusal of a call to `provider` whose server named `namedMs`,
 * answered at `now` (performance.now() ms); `first`: the call was the first sent after the
 * latest named wait (`sentAfterWait`). Undefined or 0 (no wait named): returned as is.
 */
export function refusedWait(
  provider: object,
  namedMs: number | undefined,
  first: boolean,
  now: number,
): number | undefined {
  if (namedMs === undefined || namedMs <= 0) return namedMs;
  const last = waits.get(provider);
  if (last === undefined || first) {
    // Refused at once after the wait the server named: that wait was too short.
    const waitMs = last === undefined ? namedMs : Math.min(MAX_WAIT_MS, Math.max(namedMs, 2 * last.waitMs));
    waits.set(provider, { until: now + waitMs, waitMs, tested: false });
    return waitMs;
  }
  // Another call's refusal (sent before the wait ended, or not its test): the wait stands,
  // and one that ends later is a new wait to test, the growth kept until a call is answered.
  if (now + namedMs > last.until)
    waits.set(provider, { until: now + namedMs, waitMs: Math.max(namedMs, last.waitMs), tested: false });
  return Math.max(namedMs, Math.ceil(last.until - now));
}

/** A call to `provider` was answered; `first` as for `refusedWait`: the wait before it held, so named waits are believed again. */
export function answeredAfterWait(provider: object, first: boolean): void {
  if (first) waits.delete(provider);
}
