/**
 * What a run saved against the naive plan: every input sent at its original size, no
 * cache, no deduplication, no triage, at the standard (non-batch) price. Computed from
 * the records alone with the bundled price table:
 *
 * - resizing: for each paid record, (original_tokens − tokens) image tokens at the
 *   model's input price;
 * - batch: for each paid record, its standard price for the same usage minus what it
 *   was billed (positive only when a batch discount applied);
 * - cache / dedup: each cache hit (cache), duplicate or near-duplicate (dedup) would have
 *   cost one naive extraction: the mean naive cost of the run's paid successful records
 *   on the same provider and model;
 * - triage: each skipped record would have cost one naive extraction, less what its
 *   triage call cost.
 *
 * Estimates, in USD; records of models with no known price add nothing.
 */

import { costUsd, modelPrice } from '../providers/pricing.js';
import type { ReportRecord } from './read-results.js';
import { roundUsd } from './units.js';

export interface Savings {
  /** What the naive plan would have cost: actual + saved. */
  naive_usd: number;
  actual_usd: number;
  saved_usd: number;
  by: { resizing: number; cache: number; dedup: number; triage: number; batch: number };
}

interface ModelMean {
  naive: number;
  count: number;
}

export class SavingsTally {
  private readonly by = { resizing: 0, cache: 0, dedup: 0, triage: 0, batch: 0 };
  private readonly means = new Map<string, ModelMean>();
  /** Reused or skipped records per provider/model, priced once the means are known. */
  private readonly pending = new Map<string, { cache: number; dedup: number; skippedPaid: number[] }>();

  add(record: ReportRecord): void {
    const key = `${record.provider}\u0000${record.model}`;
    if (record.attempts > 0 && record.status !== 'skipped') {
      const standard = costUsd(record.provider, record.model, record.usage);
      if (standard === null) return;
      const price = modelPrice(record.provider, record.model);
      const extraTokens = Math.max(0, (record.image?.original_tokens ?? 0) - (record.image?.tokens ?? 0));
      const resizing = price?.input === undefined ? 0 : (extraTokens * price.input) / 1_000_000;
      const batch = record.cost_usd === null ? 0 : Math.max(0, standard - record.cost_usd);
      this.by.resizing += resizing;
      this.by.batch += batch > standard * 1e-6 ? batch : 0;
      if (record.status === 'ok') {
        const mean = this.means.get(key) ?? { naive: 0, count: 0 };
        mean.naive += standard + resizing;
        mean.count++;
        this.means.set(key, mean);
      }
      return;
    }
    const pending = this.pending.get(key) ?? { cache: 0, dedup: 0, skippedPaid: [] };
    if (record.status === 'skipped') pending.skippedPaid.push(record.cost_usd ?? 0);
    else if (record.cache === 'hit') pending.cache++;
    else if (record.cache === 'dedup' || record.cache === 'near-dup') pending.dedup++;
    this.pending.set(key, pending);
  }

  result(actual: number): Savings {
    const by = { ...this.by };
    for (const [key, pending] of this.pending) {
      const mean = this.means.get(key);
      if (!mean || mean.count === 0) continue;
      const each = mean.naive / mean.count;
      by.cache += pending.cache * each;
      by.dedup += pending.dedup * each;
      for (const paid of pending.skippedPaid) by.triage += Math.max(0, each - paid);
    }
    const saved = by.resizing + by.cache + by.dedup + by.triage + by.batch;
    const rounded = Object.fromEntries(Object.entries(by).map(([k, v]) => [k, roundUsd(v)])) as typeof by;
    return {
      naive_usd: roundUsd(actual + saved),
      actual_usd: roundUsd(actual),
      saved_usd: roundUsd(saved),
      by: rounded,
    };
  }
}
