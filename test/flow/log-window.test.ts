/**
 * The sliding-log learner (src/flow/log-window.ts) on hand-made send histories: what it
 * believes of the answers' budgets, and when its emulated log lets the next call go.
 */
import { describe, expect, it } from 'vitest';
import { CallRecord } from '../../src/flow/call-record.js';
import { LogWindowLearner, type SendHistory } from '../../src/flow/log-window.js';

/** Sends in sequence order (seq 1 first), none refused. */
function history(): SendHistory & { send(at: number): number } {
  const sent: number[] = [];
  return {
    sent,
    lastSeq: () => sent.length,
    refused: () => false,
    send(at: number) {
      sent.push(at);
      return sent.length;
    },
  };
}

/** A log of `limit` calls over 2 s, every call 2000 / limit ms apart: each answer reports a full log. */
function steady(limit: number, calls: number) {
  const h = history();
  const log = new LogWindowLearner(h);
  const gap = 2000 / limit;
  for (let i = 0; i < calls; i++) h.send(i * gap);
  // Each answered call's log holds it and the limit − 1 before it; the oldest leaves one gap later (1 s rounded up).
  for (let seq = limit + 1; seq <= calls; seq++)
    log.bound({ limit, remaining: 0, resetMs: 1000 }, seq, h.sent[seq - 1]!);
  return { h, log };
}

describe('LogWindowLearner', () => {
  it('drops bounds the whole-second resets show were made by calls arriving out of order', () => {
    const { h, log } = steady(50, 100);
    expect(log.bounded()).toBe(2000);
    // Three answers whose log counted 25 of its 50 (the other 25 not arrived yet): a bound of
    // half the window each, below what the resets show the window is at least.
    for (const seq of [98, 99, 100]) log.bound({ limit: 50, remaining: 25 }, seq, h.sent[seq - 1]!);
    expect(log.bounded()).toBe(2000);
  });

  it('takes the third tightest bound, not one call admitted late', () => {
    const { h, log } = steady(50, 100);
    // One answer counted a call more than its send order shows (the next one overtook it).
    log.bound({ limit: 50, remaining: 1 }, 100, h.sent[99]! - 60);
    expect(log.bounded()).toBe(2000);
  });

  it('spaces the sends a bunch leaves room for at the log rate', () => {
    const { h, log } = steady(5, 40);
    const window = log.window()!;
    expect(window).toBeGreaterThan(2000);
    // A burst of five in one millisecond, then the first call after its oldest left the window.
    const burstAt = 16_000;
    for (let i = 0; i < 5; i++) h.send(burstAt);
    const first = log.hold(5)!;
    expect(first).toBe(burstAt + window + 1);
    h.send(first);
    // The log would take the next four at once; the emulation spaces them (at 0.8 of its interval).
    expect(log.hold(5)!).toBeGreaterThanOrEqual(first + (0.8 * window) / 5 / 2);
  });
});

describe('LogWindowLearner margin', () => {
  it('halves a margin a refusal doubled after two limits of successes without another', () => {
    const { h, log } = steady(5, 40);
    const learned = log.window()!;
    log.widen(h.lastSeq());
    const widened = log.window()!;
    expect(widened).toBe(learned + 25);
    // Ten more successes (two limits of 5): the margin is back.
    for (let i = 0; i < 10; i++) {
      const seq = h.send(16_000 + i * 400);
      log.bound({ limit: 5, remaining: 0, resetMs: 1000 }, seq, h.sent[seq - 1]!);
    }
    expect(log.window()).toBe(learned);
  });
});

describe('CallRecord.restamp', () => {
  it('moves a call’s send time to when its request left', () => {
    let seq = 0;
    const record = new CallRecord(() => seq);
    record.sentCall(++seq, 0);
    record.sentCall(++seq, 10);
    record.restamp(1, 465);
    expect(record.sent).toEqual([465, 10]);
    record.settledCall(2, 500, 'ok', 10);
    record.restamp(2, 600);
    expect(record.sent).toEqual([465, 10]);
  });
});
