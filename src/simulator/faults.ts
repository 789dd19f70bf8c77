/**
 * Seeded randomness (mulberry32) for latencies and injected faults, so a simulated run
 * with the same seed and request order fails the same way every time.
 */
import type { FaultKind, FaultRates } from './types.js';

export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
}

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
    private readonly random: Random,
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
