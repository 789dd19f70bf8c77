/**
 * One cause, one wording (trial of issue 10): two runs against the same server whose
 * refusals outlast --max-retry-wait fail their images RATE_LIMITED, some cut off at the end
 * of the budget, some stopped at the refusal before it (the next wait would pass what is
 * left). Which is timing; the summary's next step is the same for both runs. A server
 * asking for a wait longer than the whole budget is another cause, worded apart. The
 * messages are made by flow/over-budget.ts, as the runs make them; the summary by FailureLog.
 */
import { describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { notSentOverBudget, overBudget } from '../../src/flow/over-budget.js';
import { errorRecord } from '../../src/pipeline/record.js';
import { FailureLog } from '../../src/runs/failures.js';

const BUDGET_MS = 20_000;
const refusal = () =>
  new VisionpipeError('RATE_LIMITED', 'openai: HTTP 429 rate_limit_exceeded', {
    status: 429,
    retryAfterMs: 5000,
  });

/** Cut off at the end of its budget. */
const spent = (name: string) =>
  overBudget({ count: 3, waitMs: BUDGET_MS }, BUDGET_MS, refusal(), 1, name, undefined).message;
/** Refused with 16 s waited: the server's 5 s would pass the 20 s budget. */
const stoppedBefore = (name: string) =>
  overBudget({ count: 3, waitMs: 16_000 }, BUDGET_MS, refusal(), 1, name, { holdMs: 5000 }).message;

async function nextStepOf(messages: string[]): Promise<string | undefined> {
  const log = await FailureLog.open(undefined);
  messages.forEach((message, i) => {
    log.add(
      errorRecord(
        { input: `img${i}.jpg`, pattern: 'doc', provider: 'openai', model: 'gpt-4o-mini' },
        { code: 'RATE_LIMITED', message },
      ),
    );
  });
  return log.report().next_steps.find((s) => s.code === 'RATE_LIMITED')?.step;
}

describe('the next step of runs whose every failure is RATE_LIMITED', () => {
  it('is worded the same for two runs of refusals that outlast the budget, whichever way each image stopped', async () => {
    const first = await nextStepOf([spent('a'), spent('b'), spent('c')]);
    const second = await nextStepOf([spent('a'), stoppedBefore('b'), stoppedBefore('c')]);
    const third = await nextStepOf([stoppedBefore('a')]);
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(third).toBe(first);
    // The stopped image's own message still names both figures.
    expect(stoppedBefore('b')).toMatch(/the server asks to wait 5 s; --max-retry-wait leaves 4 s/);
  });

  it('words a server wait longer than the whole budget apart: the budget would be exceeded', async () => {
    const longer = notSentOverBudget({ count: 0, waitMs: 0 }, BUDGET_MS, 40_000, 40_000, 0, 'a').message;
    const step = await nextStepOf([longer]);
    expect(step).toContain('the budget would be exceeded (not spent)');
    expect(step).not.toBe(await nextStepOf([spent('a')]));
  });
});
