/**
 * Turns a provider's rate-limit snapshot into a pause for everyone: the Retry-After of
 * a 429, or, when a budget is (almost) used up, the time until it has room again.
 * Pausing at a small margin above zero is what keeps the other in-flight calls from
 * meeting the 429.
 *
 * Providers report the time until the budget is *fully* replenished (OpenAI: "resets to
 * its initial state"; Anthropic: "fully replenished") and refill continuously, so room
 * for the next call comes back long before that: reset × needed / (limit − remaining).
 * Waiting for the full reset instead would stall every caller for up to a minute each
 * time the budget runs low: the burst-then-starve pattern pacing exists to avoid.
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
    if (budget.remaining > floor) continue;
    const refill =
      budget.limit === undefined || budget.limit <= budget.remaining
        ? budget.resetMs
        : (budget.resetMs * (floor + 1 - budget.remaining)) / (budget.limit - budget.remaining);
    pause = Math.max(pause, refill);
  }
  return Math.min(Math.max(0, pause), maxPauseMs);
}
