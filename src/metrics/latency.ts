/**
 * Latency percentiles with an HDR histogram: constant memory and ~0.1 % precision
 * however many samples, unlike sorting an array of every latency.
 */
import type { Histogram } from 'hdr-histogram-js';
import { hdrHistogram } from '../on-first-use.js';

export interface LatencyPercentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  // Built on the first sample: a run that records none never loads hdr-histogram-js.
  private built: Histogram | undefined;
  private samples = 0;

  private get histogram(): Histogram {
    this.built ??= hdrHistogram().build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 24 * 3600 * 1000,
      numberOfSignificantValueDigits: 3,
      autoResize: true,
    });
    return this.built;
  }

  record(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms)));
    this.samples++;
  }

  get count(): number {
    return this.samples;
  }

  percentiles(): LatencyPercentiles {
    if (this.samples === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
    const max = this.histogram.maxValue;
    // HDR reports a bucket's upper bound; never above the largest value actually seen.
    const at = (percentile: number) => Math.min(this.histogram.getValueAtPercentile(percentile), max);
    return { p50: at(50), p95: at(95), p99: at(99), max };
  }
}

/**
 * Exact nearest-rank percentile of values sorted ascending (0 when empty): the smallest
 * value with at least `percentile` % of the values at or below it.
 */
export function nearestRank(sorted: ArrayLike<number>, percentile: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((percentile / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}
