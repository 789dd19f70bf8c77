/**
 * Alert conditions over a run (or a service's images), evaluated as events arrive and
 * once a second:
 *
 * - `success_rate`: successes over attempted images finished in the last `windowMs` drops
 *   below `minSuccessRate` (needs `minSamples` attempted images in the window). What
 *   counts as a success or an attempt is the run summary's definition (runs/quality.ts
 *   successOutcome): empty and low-confidence outputs are failures; skipped images and
 *   images ABORTED by a user stop are not attempts;
 * - `p95_latency`: p95 of the latency of those images that made a provider call rises
 *   above `maxP95Ms`;
 * - `circuit_open:<provider>`: a provider's circuit breaker opened;
 * - `cost_budget`: the projected cost (budget.ts: the larger of spent plus the worst case
 *   in flight and `spent / done × total`) reaches `budgetWarnFraction` of the budget (the
 *   run stops before exceeding it: budget.ts).
 *
 * Each condition fires once when it starts to hold and resolves once when it stops, and
 * never sends more than one message per `intervalMs`: a change within the interval
 * waits for its end (and is dropped if it reverted meanwhile).
 */
import { nearestRank } from './latency.js';
import { ALERT_DEFAULTS, type AlertRules } from './options.js';

export { ALERT_DEFAULTS, type AlertRules };

export interface Alert {
  /** `success_rate`, `p95_latency`, `circuit_open:<provider>` or `cost_budget`. */
  condition: string;
  state: 'firing' | 'resolved';
  /** One human sentence. */
  message: string;
  /** The measured value (rate 0–1, ms, 1/0 for a circuit, USD). */
  value: number;
  threshold: number;
  /** Epoch ms. */
  at: number;
}

interface Sample {
  at: number;
  ok: boolean;
  latencyMs: number;
  /** A provider call was made: the latency counts toward p95 (the summary's latency too). */
  called: boolean;
}

interface ConditionState {
  announced: boolean;
  lastSentAt: number;
}

interface Reading {
  /** Undefined: too few samples to tell, the condition keeps its state (no data is not recovery). */
  holds: boolean | undefined;
  value: number;
  threshold: number;
  message: string;
}

export class AlertMonitor {
  private readonly samples: Sample[] = [];
  private readonly states = new Map<string, ConditionState>();
  private readonly circuits = new Map<string, boolean>();
  private projectedCost = 0;
  private costBasis: { spentUsd: number; done: number; total?: number } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rules: AlertRules,
    private readonly notify: (alert: Alert) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Re-evaluates every second (so a resolve held back by the interval goes out); unref'd. */
  start(): this {
    this.timer ??= setInterval(() => this.evaluate(), 1000);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * An image finished: `ok` when successOutcome (runs/quality.ts) says `success`; `skipped`
   * when it says `not_attempted` (not counted); `called` false when no provider call was
   * made (a cache hit, a missing file): counted in the rate, not in p95.
   */
  image(ok: boolean, latencyMs: number, skipped = false, called = true): void {
    if (!skipped) this.samples.push({ at: this.now(), ok, latencyMs, called });
    this.evaluate();
  }

  circuit(provider: string, open: boolean): void {
    this.circuits.set(provider, open);
    this.evaluate();
  }

  /**
   * The projected cost of the run, USD, and optionally what it is made of (for the message):
   * spent so far, images done and the run's total.
   */
  cost(projectedUsd: number, basis?: { spentUsd: number; done: number; total?: number }): void {
    this.projectedCost = projectedUsd;
    this.costBasis = basis;
    this.evaluate();
  }

  evaluate(): void {
    const now = this.now();
    while (this.samples.length > 0 && (this.samples[0]?.at ?? now) < now - this.rules.windowMs)
      this.samples.shift();
    const enough = this.samples.length >= this.rules.minSamples;
    const okCount = this.samples.filter((s) => s.ok).length;
    const rate = this.samples.length ? okCount / this.samples.length : 1;
    const windowS = Math.round(this.rules.windowMs / 1000);
    this.check('success_rate', {
      holds: enough ? rate < this.rules.minSuccessRate : undefined,
      value: rate,
      threshold: this.rules.minSuccessRate,
      message: `success rate ${(rate * 100).toFixed(1)} % over the last ${windowS} s (${this.samples.length} images); threshold ${(this.rules.minSuccessRate * 100).toFixed(1)} %`,
    });
    const p95 = nearestRank(
      Float64Array.from(this.samples.filter((s) => s.called).map((s) => s.latencyMs)).sort(),
      95,
    );
    this.check('p95_latency', {
      holds: enough ? p95 > this.rules.maxP95Ms : undefined,
      value: p95,
      threshold: this.rules.maxP95Ms,
      message: `p95 latency ${(p95 / 1000).toFixed(1)} s over the last ${windowS} s; threshold ${(this.rules.maxP95Ms / 1000).toFixed(1)} s`,
    });
    for (const [provider, open] of this.circuits) {
      this.check(`circuit_open:${provider}`, {
        holds: open,
        value: open ? 1 : 0,
        threshold: 1,
        message: open
          ? `${provider}: circuit open, calls paused after repeated provider failures`
          : `${provider}: circuit closed again, calls go through`,
      });
    }
    const budget = this.rules.budgetUsd;
    if (budget !== undefined) {
      const limit = budget * this.rules.budgetWarnFraction;
      this.check('cost_budget', {
        holds: this.projectedCost >= limit,
        value: this.projectedCost,
        threshold: budget,
        message: `projected cost $${this.projectedCost.toFixed(4)}${this.costBasisText()} is at ${((this.projectedCost / budget) * 100).toFixed(0)} % of the $${budget} budget`,
      });
    }
  }

  private costBasisText(): string {
    const b = this.costBasis;
    if (!b) return '';
    const of = b.total === undefined ? '' : ` of ${b.total}`;
    return ` (spent $${b.spentUsd.toFixed(4)} on ${b.done}${of} images)`;
  }

  private check(condition: string, reading: Reading): void {
    const state = this.states.get(condition) ?? { announced: false, lastSentAt: Number.NEGATIVE_INFINITY };
    this.states.set(condition, state);
    if (reading.holds === undefined || reading.holds === state.announced) return;
    const now = this.now();
    if (now - state.lastSentAt < this.rules.intervalMs) return; // one message per interval
    state.announced = reading.holds;
    state.lastSentAt = now;
    this.notify({
      condition,
      state: reading.holds ? 'firing' : 'resolved',
      message: reading.message,
      value: reading.value,
      threshold: reading.threshold,
      at: now,
    });
  }
}
