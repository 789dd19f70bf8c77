/**
 * A cost budget for a run (`--max-cost-usd`): inputs are let into the concurrency window
 * only while what was spent, plus what the images in flight and the next one may cost,
 * stays within the budget. An image's possible cost is the most any image of this run
 * has cost so far; until an image that called a provider has finished, images go one
 * at a time. When the next
 * image could exceed the budget, the run stops starting images (those in flight finish)
 * and `stopped` says so: the run ends incomplete and running it again (with a larger
 * budget) resumes where it stopped.
 *
 * An estimate, not a hard cap: one image can cost more than any before it.
 */
import type { RunRecord } from '../pipeline/record.js';

export class CostBudget {
  private spent = 0;
  private done = 0;
  private total: number | undefined;
  private largest = 0;
  private inFlight = 0;
  /** Whether an image that called a provider has finished (its cost is known, perhaps 0). */
  private priced = false;
  private stopReason: string | undefined;
  private wake: (() => void) | undefined;

  /** @param limitUsd the budget, USD (> 0). */
  constructor(readonly limitUsd: number) {}

  get spentUsd(): number {
    return this.spent;
  }

  /** Records finished so far (resumed ones included). */
  get doneCount(): number {
    return this.done;
  }

  /** How many inputs the run has, once counted (undefined before). */
  get totalCount(): number | undefined {
    return this.total;
  }

  /** The run's input count, once known (it is counted while the run starts). */
  setTotal(total: number): void {
    this.total = total;
  }

  /**
   * What the run is heading for, USD: the larger of spent plus the worst case of the
   * images in flight, and (once the input count is known) the run's total at the mean
   * cost so far: `spent / done × total`.
   */
  get projectedUsd(): number {
    const near = this.spent + this.inFlight * this.largest;
    if (this.total === undefined || this.done === 0) return near;
    return Math.max(near, (this.spent / this.done) * Math.max(this.total, this.done));
  }

  /** Why the run stopped early, or undefined. */
  get stopped(): string | undefined {
    return this.stopReason;
  }

  /** Hands items on while the budget allows; ends early (setting `stopped`) when it does not. */
  async *gate<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const item of items) {
      // Nothing priced yet: one at a time until an image shows what one costs.
      while (!this.priced && this.inFlight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.spent + (this.inFlight + 1) * this.largest > this.limitUsd) {
        this.stopReason = `stopped before exceeding the $${this.limitUsd} budget: spent $${this.spent.toFixed(4)}, the next image could cost up to $${this.largest.toFixed(4)}`;
        return;
      }
      this.inFlight++;
      yield item;
    }
  }

  /** An image let through by gate() finished (resumed records cost nothing and pass too). */
  finished(record: RunRecord): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.done++;
    const cost = record.cost_usd ?? 0;
    this.spent += cost;
    this.largest = Math.max(this.largest, cost);
    if (record.attempts > 0) this.priced = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
