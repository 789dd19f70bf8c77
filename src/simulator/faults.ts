/**
 * Injected faults from a seeded Rng, so a simulated run with the same seed and request
 * order fails the same way every time.
 */
import type { Rng } from './random.js';
import type { FaultKind, FaultRates } from './types.js';

const RANDOM_FAULTS: Array<[keyof FaultRates, FaultKind]> = [
  ['rateReset', 'reset'],
  ['rate5xx', '5xx'],
  ['rate529', '529'],
  ['rateSlowBody', 'slow-body'],
  ['rateMalformed', 'malformed'],
];

export class FaultPlan {
  private readonly forced: FaultKind[] = [];

  constructor(
    private readonly rates: Partial<FaultRates>,
    private readonly random: Rng,
  ) {
    for (const [key] of RANDOM_FAULTS) {
      const rate = rates[key] ?? 0;
      if (!(rate >= 0 && rate <= 1)) throw new RangeError(`faults.${key} must be within 0–1 (got ${rate})`);
    }
  }

  inject(kind: FaultKind, count: number): void {
    for (let i = 0; i < count; i++) this.forced.push(kind);
  }

  /** The fault for the next request, if any: forced ones first, then one draw against the rates. */
  next(): FaultKind | undefined {
    const forced = this.forced.shift();
    if (forced !== undefined) return forced;
    const draw = this.random.next();
    let edge = 0;
    for (const [key, kind] of RANDOM_FAULTS) {
      edge += this.rates[key] ?? 0;
      if (draw < edge) return kind;
    }
    return undefined;
  }
}
