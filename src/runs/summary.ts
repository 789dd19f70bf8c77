/**
 * The run summary, accumulated record by record in constant memory: counts, errors by
 * code, success rate, throughput, latency percentiles, bytes, tokens and cost, and the
 * guide's alert thresholds (success below 95 %, p95 above 15 s) as warnings.
 *
 * `ok` counts only outputs worth having: an `ok` record whose fields are all null is
 * `empty`, one whose confidence is below the run's threshold is `low_confidence`
 * (src/runs/quality.ts); neither counts as a success. Rates count only images this run
 * processed (read and sent through the pipeline), over the time they took: records kept
 * from an earlier run (`resumed`) and inputs that were never read (`NOT_FOUND`) are not
 * images processed.
 */
import { LatencyHistogram, type LatencyPercentiles } from '../metrics/latency.js';
import type { RunRecord } from '../pipeline/record.js';
import { PageTally, type PageTotals } from './page-tally.js';
import { qualityOf } from './quality.js';

export interface Summary {
  total: number;
  /** `ok` records with data at or above the confidence threshold. */
  ok: number;
  /** `ok` records whose every field is null: nothing was read. */
  empty: number;
  /** `ok` records below `min_confidence` (not enforced; enforced ones are LOW_CONFIDENCE errors). */
  low_confidence: number;
  errors: number;
  skipped: number;
  resumed: number;
  /** Records of this run that read an input (not resumed, not a missing input). */
  processed: number;
  /** Of `processed`, the records of documents (PDF, multi-page TIFF, HEIC): one per document, or per page with `--pages each`. */
  processed_documents: number;
  /** ok / (ok + empty + low_confidence + errors), 0–1; skipped images are not failures. */
  success_rate: number;
  /** The confidence threshold applied, null when the provider gives none. */
  min_confidence: number | null;
  errors_by_code: Record<string, number>;
  wall_s: number;
  /** Seconds from the start of the run to its last processed image. */
  processing_s: number;
  /** processed / processing_s × 3600; 0 when nothing was processed. */
  images_per_hour: number;
  latency_ms: LatencyPercentiles;
  cache: { hits: number; misses: number; dedup: number; near_dup: number };
  bytes: { original: number; sent: number };
  tokens: { input: number; output: number; image: number; total: number; estimated: boolean };
  cost_usd: number;
  /** Records whose model has no known price (not counted in cost_usd). */
  cost_unknown: number;
  /** Runs that met documents only: their pages read, blank and skipped (runs/page-tally.ts). */
  pages?: PageTotals;
  /** Calls of this run the provider refused (429, 529, busy 503) and the time spent waiting them out, ms. */
  rate_limited: { count: number; wait_ms: number };
  /** Failed calls sent again (errors, not rate-limit refusals), as the flow published them. */
  retries: number;
  alerts: string[];
}

export const ALERT_THRESHOLDS = { minSuccessRate: 0.95, maxP95Ms: 15_000 } as const;

export interface SummaryOptions {
  /** Records with a confidence below this count as low_confidence. */
  minConfidence?: number;
}

export class RunSummary {
  private readonly latency = new LatencyHistogram();
  private readonly started = performance.now();
  private lastProcessed: number | undefined;
  private counts = {
    total: 0,
    ok: 0,
    empty: 0,
    low_confidence: 0,
    errors: 0,
    skipped: 0,
    resumed: 0,
    processed: 0,
    processed_documents: 0,
  };
  private readonly minConfidence: number | undefined;

  constructor(options: SummaryOptions = {}) {
    this.minConfidence = options.minConfidence;
  }

  private readonly byCode = new Map<string, number>();
  private readonly cache = { hits: 0, misses: 0, dedup: 0, near_dup: 0 };
  private readonly bytes = { original: 0, sent: 0 };
  private readonly tokens = { input: 0, output: 0, image: 0, total: 0, estimated: false };
  private cost = 0;
  private costUnknown = 0;
  private readonly pages = new PageTally();
  private readonly rateLimited = { count: 0, wait_ms: 0 };
  private retries = 0;

  /** Counts one failed call that was sent again (the flow's `retry` event, not a throttle). */
  addRetry(): void {
    this.retries++;
  }

  add(record: RunRecord): void {
    this.count(record);
    // Waits of this run only: a resumed record's were paid by the earlier run.
    this.rateLimited.count += record.rate_limited.count;
    this.rateLimited.wait_ms += record.rate_limited.wait_ms;
    if (record.sha256 !== null) {
      this.counts.processed++;
      if (record.pages !== undefined) this.counts.processed_documents++;
      this.lastProcessed = performance.now();
    }
  }

  private count(record: RunRecord): void {
    this.counts.total++;
    if (record.status === 'ok') this.counts[qualityOf(record, this.minConfidence) ?? 'ok']++;
    else if (record.status === 'skipped') this.counts.skipped++;
    else {
      this.counts.errors++;
      const code = record.error?.code ?? 'INTERNAL';
      this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
    }
    if (record.cache === 'hit') this.cache.hits++;
    else if (record.cache === 'miss') this.cache.misses++;
    else if (record.cache === 'dedup') this.cache.dedup++;
    else if (record.cache === 'near-dup') this.cache.near_dup++;
    if (record.image) {
      // A document's original is its file, counted once however many records it has.
      this.bytes.original += this.pages.originalBytes(record);
      // Cached and deduplicated results sent nothing.
      if (record.attempts > 0) this.bytes.sent += record.image.bytes;
    }
    this.tokens.input += record.usage.input_tokens;
    this.tokens.output += record.usage.output_tokens;
    this.tokens.image += record.usage.image_tokens;
    this.tokens.total += record.usage.input_tokens + record.usage.output_tokens;
    this.tokens.estimated ||= record.usage.estimated && record.attempts > 0;
    if (record.cost_usd === null) {
      if (record.attempts > 0) this.costUnknown++;
    } else this.cost += record.cost_usd;
    if (record.status !== 'skipped' && record.attempts > 0) this.latency.record(record.latency_ms);
    this.pages.add(record);
  }

  /** Counts a record carried over from an earlier, interrupted run of the same command. */
  addResumed(record: RunRecord): void {
    this.count(record);
    this.counts.resumed++;
  }

  toJSON(): Summary {
    const wallS = (performance.now() - this.started) / 1000;
    const attempted = this.counts.ok + this.counts.empty + this.counts.low_confidence + this.counts.errors;
    const successRate = attempted === 0 ? 1 : this.counts.ok / attempted;
    const latency = this.latency.percentiles();
    const alerts: string[] = [];
    if (attempted > 0 && successRate < ALERT_THRESHOLDS.minSuccessRate) {
      alerts.push(
        `success rate ${(successRate * 100).toFixed(1)} % is below ${ALERT_THRESHOLDS.minSuccessRate * 100} %`,
      );
    }
    if (latency.p95 > ALERT_THRESHOLDS.maxP95Ms) {
      alerts.push(
        `p95 latency ${(latency.p95 / 1000).toFixed(1)} s is above ${ALERT_THRESHOLDS.maxP95Ms / 1000} s`,
      );
    }
    const pages = this.pages.toJSON();
    const processingS = this.lastProcessed === undefined ? 0 : (this.lastProcessed - this.started) / 1000;
    return {
      ...this.counts,
      success_rate: Math.round(successRate * 10_000) / 10_000,
      min_confidence: this.minConfidence ?? null,
      errors_by_code: Object.fromEntries(this.byCode),
      wall_s: Math.round(wallS * 100) / 100,
      processing_s: Math.round(processingS * 100) / 100,
      images_per_hour: processingS > 0 ? Math.round((this.counts.processed / processingS) * 3600) : 0,
      latency_ms: latency,
      cache: { ...this.cache },
      bytes: { ...this.bytes },
      tokens: { ...this.tokens },
      cost_usd: Math.round(this.cost * 1e6) / 1e6,
      cost_unknown: this.costUnknown,
      ...(pages ? { pages } : {}),
      rate_limited: { count: this.rateLimited.count, wait_ms: Math.round(this.rateLimited.wait_ms) },
      retries: this.retries,
      alerts,
    };
  }
}
