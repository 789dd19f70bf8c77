/**
 * A Retry-After far beyond what the flow has believed is tested before it is believed
 * (trial 10, finding 3: one `Retry-After: 3600` among 429s that said 0 froze a free server
 * for the 60 s cap). Everyone pauses one second; then one call goes alone while the others
 * wait for its answer: answered, everyone resumes; refused with a long wait too, the wait is
 * believed, capped at maxPauseMs. A wait of 10 s or less, or within 4× the longest believed
 * one, is believed at once. Deterministic: the flow on a fake clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveFlow, type FlowSlot } from '../../src/flow/adaptive.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const HOUR = 3_600_000;

/** A flow that has just met one 429 naming `retryAfterMs`, and `waiting` calls queued behind it. */
async function refusedOnce(retryAfterMs: number, waiting = 3) {
  const flow = new AdaptiveFlow({ maxConcurrency: 8, now: () => Date.now() });
  // Six calls out, the last refused: the calls in flight are cut to five, room for all waiting.
  const out = await Promise.all(Array.from({ length: 6 }, () => flow.admit()));
  out[5]!.done({ kind: 'throttled', retryAfterMs });
  for (const slot of out.slice(0, 5)) slot.done({ kind: 'ok' });
  const admitted: FlowSlot[] = [];
  for (let i = 0; i < waiting; i++) void flow.admit().then((slot) => admitted.push(slot));
  await vi.advanceTimersByTimeAsync(0);
  return { flow, admitted };
}

describe('a Retry-After far beyond what was believed', () => {
  it('pauses everyone one second, then lets one call test it; answered, everyone resumes', async () => {
    const { flow, admitted } = await refusedOnce(HOUR);
    expect(flow.holdMs).toBeLessThanOrEqual(1000);
    expect(admitted).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(admitted).toHaveLength(1); // the probe, alone
    await vi.advanceTimersByTimeAsync(5000);
    expect(admitted).toHaveLength(1); // the others wait for its answer
    admitted[0]!.done({ kind: 'ok' });
    await vi.advanceTimersByTimeAsync(0);
    expect(admitted).toHaveLength(3);
    expect(flow.holdMs).toBe(0);
  });

  it('is believed, capped at maxPauseMs, when the probe is refused with a long wait too', async () => {
    const { flow, admitted } = await refusedOnce(HOUR);
    await vi.advanceTimersByTimeAsync(1000);
    expect(admitted).toHaveLength(1);
    admitted[0]!.done({ kind: 'throttled', retryAfterMs: HOUR });
    await vi.advanceTimersByTimeAsync(0);
    expect(flow.holdMs).toBeGreaterThan(59_000);
    expect(flow.holdMs).toBeLessThanOrEqual(60_000);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(admitted).toHaveLength(1);
    // Then they go, paced at the rate the refusal set.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(admitted).toHaveLength(3);
  });

  it('a wait of 10 s or less is believed at once', async () => {
    const { flow, admitted } = await refusedOnce(8000);
    expect(flow.holdMs).toBe(8000);
    await vi.advanceTimersByTimeAsync(7999);
    expect(admitted).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(admitted).toHaveLength(3);
  });

  it('a long wait within 4× the longest believed one is believed at once', async () => {
    const { flow, admitted } = await refusedOnce(8000, 1);
    await vi.advanceTimersByTimeAsync(8000);
    expect(admitted).toHaveLength(1);
    admitted[0]!.done({ kind: 'throttled', retryAfterMs: 30_000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(flow.holdMs).toBe(30_000);
  });
});
