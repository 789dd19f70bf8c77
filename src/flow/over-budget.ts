/**
 * The RATE_LIMITED an image ends with when its rate-limit waits reach `--max-retry-wait`
 * (call-policy.ts), in two kinds the user acts on differently:
 * - spent: it waited the whole budget and was still refused;
 * - would be exceeded: the wait ahead (the server's believed Retry-After, as the flow holds
 *   it) is at least the whole budget, so it fails at once rather than sit out the rest: the
 *   message names both figures ("the server asks to wait 40 s; --max-retry-wait leaves 29 s").
 *   A wait ahead shorter than the budget that only overruns what is left (the refusals
 *   outlasted the budget) fails at once too, naming both figures, but is the spent kind.
 * `wouldExceedBudget` tells the kinds apart from the message (the run summary's next step).
 */
import { formatDuration } from '../cli/format.js';
import { VisionpipeError } from '../errors.js';
import type { RateLimitSnapshot } from '../providers/spec.js';
import { markAttempts } from './retry.js';
import type { ThrottleTally } from './throttle.js';

/** The words every "would be exceeded" message has, and no "spent" one. */
const AHEAD = 'the next wait would overrun the --max-retry-wait budget';
/**
 * The words of a stop at a wait ahead shorter than the whole budget: the refusals lasted
 * longer than the budget, as when it is spent. Which of the two an image meets (cut off at
 * the end of the budget, or stopped at the refusal before it) is timing: one cause, one
 * kind, so two runs of the same server say the same (trial of issue 10).
 */
const ADDS_UP = 'its waits would add up past the --max-retry-wait budget';

/** Where a record counts refused calls: `attempts` counts only the calls not refused (pipeline/record.ts). */
export const REFUSALS_COUNTED = 'refused calls are in rate_limited, not attempts';

/** What was ahead when the image stopped: the flow's hold (ms), when that was the reason. */
export interface WaitAhead {
  holdMs: number;
  /** The latest request budget the provider reported: a used-up one names its reset, not the hold. */
  budget?: ReportedBudget | undefined;
}

/** RATE_LIMITED for an image whose rate-limit waits reached --max-retry-wait, or would (`ahead`). */
export function overBudget(
  tally: ThrottleTally,
  budgetMs: number,
  refusal: VisionpipeError,
  attempt: number,
  label: string,
  ahead: WaitAhead | undefined,
): VisionpipeError {
  // The provider's pacing, said as such: a quota or billing refusal is QUOTA_EXCEEDED, never this.
  // The record's `attempts` leaves refused calls out (0 after one refusal): said here, where it is read.
  const waited = `still rate limited after waiting ${seconds(tally.waitMs)} over ${tally.count} ${tally.count === 1 ? 'refusal' : 'refusals'} (the provider's pacing, not a quota; ${REFUSALS_COUNTED})`;
  const left = Math.max(0, budgetMs - tally.waitMs);
  const reset = ahead && usedUpUntil(ahead.budget, ahead.holdMs);
  const why =
    ahead && left > 0
      ? `and ${reset ? AHEAD : overrun(refusal.retryAfterMs, ahead.holdMs, budgetMs)} of ${seconds(budgetMs)} for one image: ${reset ?? aheadWords(refusal.retryAfterMs, ahead.holdMs)}; --max-retry-wait leaves ${seconds(left)}, so the image fails now rather than wait`
      : `the --max-retry-wait budget of ${seconds(budgetMs)} for one image`;
  const message = `${label}: ${waited}, ${why}: ${refusal.message}`;
  return markAttempts(new VisionpipeError('RATE_LIMITED', message, { retryable: false }), attempt);
}

/**
 * RATE_LIMITED for an image whose call was never sent: the flow's believed pause (after
 * other calls' 429s) is longer than what the image's budget leaves, so it fails at once
 * rather than sit the pause out and then be refused (trial of issue 10: 40 s waited, then failed).
 */
export function notSentOverBudget(
  tally: ThrottleTally,
  budgetMs: number,
  askedMs: number | undefined,
  pauseMs: number,
  attempt: number,
  label: string,
  /** The latest request budget the provider reported, and when (performance.now() ms). */
  budget?: ReportedBudget,
): VisionpipeError {
  const left = Math.max(0, budgetMs - tally.waitMs);
  const reset = usedUpUntil(budget, pauseMs);
  const ahead = reset
    ? `${AHEAD} of ${seconds(budgetMs)} for one image: ${reset}`
    : `${overrun(askedMs, pauseMs, budgetMs)} of ${seconds(budgetMs)} for one image: ${aheadWords(askedMs, pauseMs)}`;
  const message = `${label}: not sent, rate limited (the provider's pacing, not a quota): ${ahead}; --max-retry-wait leaves ${seconds(left)}, so the image fails now rather than wait`;
  return markAttempts(new VisionpipeError('RATE_LIMITED', message, { retryable: false }), attempt);
}

/** A request budget as an answer reported it, at `at` (performance.now() ms). */
export interface ReportedBudget {
  requests: NonNullable<RateLimitSnapshot['requests']>;
  at: number;
}

/**
 * The used-up budget in words, when the pause ahead (`pauseMs`) comes from it: 0 left and
 * its reset no sooner than the pause. A reset is the time until the budget is back in full
 * (OpenAI: "resets to its initial state"); the flow paces by a refill of reset ÷ limit a
 * call, so an hours-long reset read as a pause of `5h` ÷ 20 (trial of issue 10: "the
 * provider's pause ahead is 937 s", a figure the server never named). The reset is what
 * the provider said; an image cannot wait for it.
 */
function usedUpUntil(budget: ReportedBudget | undefined, pauseMs: number): string | undefined {
  const requests = budget?.requests;
  if (budget === undefined || requests?.remaining === undefined || requests.resetMs === undefined)
    return undefined;
  const leftMs = budget.at + requests.resetMs - performance.now();
  if (requests.remaining > 0 || leftMs < pauseMs) return undefined;
  const limit = requests.limit === undefined ? '' : ` of ${requests.limit} requests`;
  return `the provider's request budget${limit} is used up, back in full in ${formatDuration(leftMs)} (its reset header); no refill sooner is named`;
}

/** "Would be exceeded" when the wait ahead alone is at least the whole budget, else the waits add up past it. */
function overrun(asked: number | undefined, holdMs: number, budgetMs: number): string {
  return aheadMs(asked, holdMs) >= budgetMs ? AHEAD : ADDS_UP;
}

/** The wait ahead (ms): the server's, as `aheadWords` names it, else the flow's pause. */
function aheadMs(asked: number | undefined, holdMs: number): number {
  return serverWait(asked, holdMs) ?? holdMs;
}

/** The server's wait (ms) when it named at least what the flow holds. */
function serverWait(asked: number | undefined, holdMs: number): number | undefined {
  return asked !== undefined && asked > 0 && asked >= holdMs ? asked : undefined;
}

/**
 * The wait ahead: the server's, when this image's refusal named at least what the flow holds
 * (the flow holds a believed Retry-After, counting down); else the flow's pause (lengthened
 * by another call's refusal, or the flow's own estimate when no wait was named).
 */
function aheadWords(asked: number | undefined, holdMs: number): string {
  return serverWait(asked, holdMs) !== undefined
    ? `the server asks to wait ${seconds(asked!)}`
    : `the provider's pause ahead is ${seconds(holdMs)}`;
}

/**
 * Whether a RATE_LIMITED message says the budget would be exceeded by one wait longer than
 * it (not that the refusals used it up, spent or about to be).
 */
export function wouldExceedBudget(message: string): boolean {
  return message.includes(AHEAD);
}

/** "0.3 s", "4 s", "120 s": whole seconds from 10 s on. */
export function seconds(ms: number): string {
  return ms < 10_000 && ms % 1000 !== 0 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
