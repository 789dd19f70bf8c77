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
 *
 * An unknown cost is never counted as $0. A run with a budget refuses to start when a model
 * it can call has no price (requirePrices: not in the built-in table nor in the config's
 * `prices`; the local engine costs nothing and needs none). A record whose cost still comes
 * back unknown (`cost_usd: null`, or a failed call whose usage never came back) is counted
 * at what `estimate` would say for its image (recordCostEstimator); when even that cannot be
 * priced, the run stops as for the budget.
 */
import { VisionpipeError } from '../errors.js';
import type { Pipeline } from '../pipeline/create-pipeline.js';
import type { RunRecord } from '../pipeline/record.js';
import { costUsd, type PriceTable } from '../providers/pricing.js';

/** Providers that never bill: their models need no price for a budget. */
const FREE_PROVIDERS: ReadonlySet<string> = new Set(['local']);

/**
 * INVALID_OPTION (exit 2) naming each model of `models` without a price, and how to give
 * one: a budget cannot count what it cannot price.
 */
export function requirePrices(
  models: ReadonlyArray<{ provider: string; model: string }>,
  limitUsd: number,
  table?: PriceTable,
): void {
  const zero = { input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: true };
  const unpriced = models.filter(
    ({ provider, model }) =>
      !FREE_PROVIDERS.has(provider) && costUsd(provider, model, zero, table ? { table } : {}) === null,
  );
  if (unpriced.length === 0) return;
  const names = unpriced.map(({ provider, model }) => `${provider}/${model}`).join(', ');
  const [first] = unpriced;
  throw new VisionpipeError(
    'INVALID_OPTION',
    `--max-cost-usd ${limitUsd}: the price of ${names} is unknown (not in the built-in table, not in the config's prices), so the budget could not count what it costs. Give it in a config file named with --config, USD per million tokens:
` +
      `  prices:
    ${first!.provider}:
      models:
        ${first!.model}: { input: <USD per 1M input tokens>, output: <USD per 1M output tokens> }
` +
      '(0 and 0 for a free server), or run without --max-cost-usd',
    { option: 'maxCostUsd' },
  );
}

/** The cost of a record whose own cost is unknown, or undefined when it cannot be priced either. */
export type CostEstimator = (record: RunRecord) => number | undefined;

/**
 * Failures after which the provider may have done (and billed) the work while no usage came
 * back: a timeout, a connection dropped after the request went out, a body that could not be
 * read, a server error, an abort in flight. Refusals (auth, bad request, rate limit, quota,
 * an open circuit) are not billed.
 */
const MAYBE_BILLED: ReadonlySet<string> = new Set([
  'PROVIDER_TIMEOUT',
  'CONNECTION_FAILED',
  'BAD_RESPONSE',
  'PROVIDER_UNAVAILABLE',
  'ABORTED',
]);

/**
 * Whether a record called a provider but its cost is unknown: no price (`cost_usd: null`), or
 * a failure that may have been billed while its usage never came back ($0, no token counted).
 */
export function costUnknown(record: RunRecord): boolean {
  if (record.attempts === 0) return false;
  if (record.cost_usd === null) return true;
  if (record.status !== 'error' || !record.error || !MAYBE_BILLED.has(record.error.code)) return false;
  return record.cost_usd === 0 && record.usage.input_tokens === 0 && record.usage.output_tokens === 0;
}

/** Longest edge assumed for a record that names no image: the profile's bound sizes it. */
const UNKNOWN_EDGE = 100_000;

/**
 * What `estimate` says a record's image costs on `pipeline` (its plan at the size sent, the
 * record's own image tokens when it has them, the pattern's prompt and expected output), priced
 * by the record's model, else the pipeline's. An image never sent is taken at the largest
 * size the profile sends.
 */
export function recordCostEstimator(
  pipeline: Pick<Pipeline, 'plan' | 'model' | 'provider'>,
  table?: PriceTable,
): CostEstimator {
  const prices = table ? { table } : {};
  return (record) => {
    const plan = pipeline.plan(record.image?.width ?? UNKNOWN_EDGE, record.image?.height ?? UNKNOWN_EDGE);
    const imageTokens = record.image?.tokens ?? plan.tokens.image_tokens;
    const usage = {
      input_tokens: plan.tokens.input_tokens - plan.tokens.image_tokens + imageTokens,
      output_tokens: plan.tokens.output_tokens,
      image_tokens: imageTokens,
      estimated: true,
    };
    const cost =
      costUsd(record.provider, record.model, usage, prices) ??
      (record.provider === pipeline.provider.id
        ? costUsd(record.provider, pipeline.model, usage, prices)
        : null);
    return cost ?? (FREE_PROVIDERS.has(record.provider) ? 0 : undefined);
  };
}

export class CostBudget {
  private spent = 0;
  private done = 0;
  private total: number | undefined;
  private largest = 0;
  private inFlight = 0;
  /** Whether an image that called a provider has finished (its cost is known, perhaps 0). */
  private priced = false;
  /** Set when the gate stopped: the worst case it saw for the next image, and the images then in flight. */
  private stop: { next: number; inFlight: number } | undefined;
  /** Set when the gate stopped on a cost it cannot count (said as it was then). */
  private uncountedReason: string | undefined;
  private wake: (() => void) | undefined;
  private estimate: CostEstimator | undefined;
  /** A record whose cost could not be counted, even estimated: the run stops. */
  private uncounted: string | undefined;

  /** @param limitUsd the budget, USD (> 0). */
  constructor(readonly limitUsd: number) {}

  /** How records of unknown cost are counted (costUnknown); without it, they stop the run. */
  estimateWith(estimate: CostEstimator): void {
    this.estimate = estimate;
  }

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

  /**
   * Why the run stopped early, or undefined. Worded from what was spent when asked, so it
   * stays true once the images in flight at the stop have finished: "before exceeding"
   * only while spent is within the budget; otherwise it names the overshoot and where it
   * came from.
   */
  get stopped(): string | undefined {
    if (this.uncountedReason) return this.uncountedReason;
    if (!this.stop) return undefined;
    const limit = `$${this.limitUsd}`;
    const spent = `$${this.spent.toFixed(4)}`;
    if (this.spent <= this.limitUsd)
      return `stopped before exceeding the ${limit} budget: spent ${spent}, the next image could cost up to $${this.stop.next.toFixed(4)}`;
    const over = `$${(this.spent - this.limitUsd).toFixed(4)}`;
    const inFlight = this.stop.inFlight;
    return `stopped at the ${limit} budget: spent ${spent}, ${over} over it${
      inFlight > 0
        ? `, from ${inFlight} image${inFlight === 1 ? '' : 's'} already in flight when it stopped`
        : ''
    } (images can cost more than any before them)`;
  }

  /** Hands items on while the budget allows; ends early (setting `stopped`) when it does not. */
  async *gate<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const item of items) {
      // Nothing priced yet: one at a time until an image shows what one costs.
      while (!this.priced && this.inFlight > 0) await new Promise<void>((resolve) => (this.wake = resolve));
      if (this.uncounted) {
        this.uncountedReason = `stopped: the cost of ${this.uncounted} is unknown and could not be estimated, so the $${this.limitUsd} budget cannot count it (give the model's price in the config's prices); spent $${this.spent.toFixed(4)} counted so far`;
        return;
      }
      if (this.spent + (this.inFlight + 1) * this.largest > this.limitUsd) {
        this.stop = { next: this.largest, inFlight: this.inFlight };
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
    let cost = record.cost_usd ?? 0;
    if (costUnknown(record)) {
      const estimated = this.estimate?.(record);
      if (estimated === undefined) this.uncounted ??= `${record.input} (${record.provider}/${record.model})`;
      else cost = Math.max(cost, estimated);
    }
    this.spent += cost;
    this.largest = Math.max(this.largest, cost);
    if (record.attempts > 0) this.priced = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
