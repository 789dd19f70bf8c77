/**
 * Turns a provider's rate-limit snapshot into a pause for everyone: the Retry-After of
 * a 429, or the reset time of a budget that is (almost) used up. Pausing at a small
 * margin above zero is what keeps the other in-flight calls from meeting the 429.
 */
import type { RateLimitSnapshot } from '../providers/spec.js';

/** Milliseconds every caller should wait from now (0: no pause), capped at `maxPauseMs`. */
export function pauseFor(
  snapshot: RateLimitSnapshot | undefined,
  margin: number,
  maxPauseMs: number,
): number {
  if (snapshot === undefined) return 0;
  let pause = snapshot.retryAfterMs ?? 0;
  for (const budget of [snapshot.requests, snapshot.tokens]) {
    if (budget?.remaining === undefined || budget.resetMs === undefined) continue;
    const floor = budget.limit === undefined ? 0 : Math.floor(budget.limit * margin);
    if (budget.remaining <= floor) pause = Math.max(pause, budget.resetMs);
  }
  return Math.min(Math.max(0, pause), maxPauseMs);
}
