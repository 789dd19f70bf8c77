/**
 * The report's figures, accumulated record by record: headline counts and rates, exact
 * latency percentiles (nearest rank over every attempted record, as the summary counts
 * them), the latency histogram, throughput per time bin, cost and tokens per
 * pattern/provider/model, errors by code, the top slowest, most expensive and failed
 * images, and what the run saved against the naive plan (savings.ts).
 *
 * Units: milliseconds for latencies, seconds for wall time, USD for cost.
 */
import { nearestRank } from '../metrics/latency.js';
import { BusyTime } from '../runs/busy-time.js';
import { PageTally, type PageTotals } from '../runs/page-tally.js';
import { defaultMinConfidence, isAborted, qualityOf, successOutcome } from '../runs/quality.js';
import { successRateOf } from '../runs/summary.js';
import { cacheLookupOf, isWorked, perHour, readOutcome, VolumeTally } from '../runs/volume.js';
import type { ReportRecord } from './read-results.js';
import { type Savings, SavingsTally } from './savings.js';
import { roundUsd } from './units.js';

export { nearestRank };

/** A point in time the run reports besides records: a 429 answer or a retry (from the live run or its log). */
export interface TimelineEvent {
  /** Epoch milliseconds. */
  at: number;
  kind: 'rate_limited' | 'retry';
}

export interface GroupFigures {
  pattern: string;
  provider: string;
  model: string;
  images: number;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  image_tokens: number;
}

export interface Headline {
  images: number;
  ok: number;
  /** `ok` records with every field null: nothing was read (runs/quality.ts). */
  empty: number;
  /** `ok` records below the engine's calibrated confidence (runs/quality.ts). */
  low_confidence: number;
  /** Error records, those ABORTED by a stop excepted (`aborted`), as the run summary counts them. */
  errors: number;
  skipped: number;
  /** Images stopped in flight by Ctrl-C/SIGTERM (ABORTED): neither processed nor failed. */
  aborted: number;
  /**
   * Records whose answer was worked out or reused (not aborted, not refused), as the run
   * summary's `processed` (runs/volume.ts readOutcome): `throughput.images` are those of
   * them worked out (not `from_cache`, a document's pages counted one by one).
   */
  processed: number;
  /** Inputs read and refused before any call (not an image, damaged), as the run summary's `refused`. */
  refused: number;
  /** Inputs read, usable, and not answered (429s, open circuit), as the run summary's `unanswered`. */
  unanswered: number;
  /** Inputs that did not exist (NOT_FOUND records): never read, as the run summary's "N not found". */
  not_found: number;
  /**
   * Of `processed`, the records of documents (PDF, multi-page TIFF, HEIC), as the run
   * summary's `processed_documents` (one per document, or per page with `--pages each`);
   * `throughput.documents` counts each document once in either mode.
   */
  processed_documents: number;
  /**
   * ok / (ok + empty + low_confidence + errors), 0–1 rounded to 4 places, null when nothing
   * was attempted (aborted, skipped and missing inputs are not attempts), by the run
   * summary's definition (runs/quality.ts successOutcome, runs/summary.ts successRateOf).
   */
  success_rate: number | null;
  /** From the first start (finished_at − latency) to the last finish; 0 when records carry no times. */
  wall_s: number;
  /**
   * Seconds during which an image worked out was in flight (`throughput.seconds`), the run
   * summary's `processing_s`: at most `wall_s`, which also counts idle time between runs.
   */
  processing_s: number;
  /** Records answered from the cache or by a duplicate: not in the rates. */
  from_cache: number;
  /**
   * What was worked out, as the run summary counts it (runs/volume.ts): plain images and
   * document pages (a page is one image) not reused, and the documents among them; per
   * hour over the time one of them was in flight (`seconds`: the union of their
   * [finished − latency, finished], runs/busy-time.ts; idle time between runs is not counted),
   * the run summary's definition.
   */
  throughput: { images: number; pages: number; documents: number; seconds: number };
  /** throughput.images per hour; null when nothing was worked out (the run summary's rule). */
  images_per_hour: number | null;
  /** throughput.documents per hour; null when none. */
  documents_per_hour: number | null;
  latency_ms: { p50: number; p95: number; p99: number; max: number };
  cost_usd: number;
  /** cost_usd / images. */
  cost_per_image_usd: number;
  /** Records paid at an unknown price (cost_usd null). */
  cost_unknown: number;
  tokens: { input: number; output: number; image: number };
  /** As the run summary counts them (runs/volume.ts): a document's file once, sent only for calls made. */
  bytes: { original: number; sent: number; original_sent: number };
  cache: { hits: number; misses: number; dedup: number; near_dup: number };
  attempts: number;
  /**
   * Calls refused by a rate limit or overload and the time waited after them, ms (the
   * records' `rate_limited`); `held_ms` and `paced_ms` as the run summary defines them
   * (runs/summary.ts), which no record holds: from the run itself (`run --report`) or its
   * log (`report --log`), null when neither was given.
   */
  rate_limited: { count: number; wait_ms: number; held_ms: number | null; paced_ms: number | null };
  /**
   * Failed calls sent again: the log's retry events (`--log`) when given, else each record's
   * calls beyond its first (`retries_from` says which).
   */
  retries: number;
  retries_from: 'events' | 'records';
}

export interface Histogram {
  /** Upper bound of each bin, ms (the last bin is open: Infinity). */
  upperMs: number[];
  counts: number[];
}

export interface Throughput {
  /** Bin width, seconds. */
  binS: number;
  /** Epoch ms of the first bin's start. */
  startMs: number;
  images: number[];
  errors: number[];
  retries: number[];
  rateLimited: number[];
  /** Where retries came from: the run's own events, or records' attempts beyond the first. */
  retriesFrom: 'events' | 'records';
}

export interface ReportFigures {
  headline: Headline;
  /** A torn last line of the results file (a run killed mid-write), skipped: 0 or 1. */
  tornLines?: number;
  savings: Savings;
  histogram: Histogram;
  throughput: Throughput | null;
  groups: GroupFigures[];
  errorsByCode: Record<string, number>;
  slowest: ReportRecord[];
  mostExpensive: ReportRecord[];
  failed: ReportRecord[];
  /** How many records failed in all (the list holds the first `TOP`). */
  failedTotal: number;
  /**
   * Documents only (absent when the results hold none): pages read, blank (never sent) and
   * skipped, and documents, as the run summary's `pages` counts them (runs/page-tally.ts).
   */
  pages?: PageTotals;
}

/** Latency histogram bin upper bounds, ms: log-spaced from 50 ms to 2 min, then open. */
export const HISTOGRAM_UPPER_MS = [
  50,
  100,
  200,
  500,
  1000,
  2000,
  5000,
  10_000,
  15_000,
  30_000,
  60_000,
  120_000,
  Number.POSITIVE_INFINITY,
];

/** How many images each list (slowest, most expensive, failed) shows. */
export const TOP = 10;

/** Keeps the `size` largest items by `score`, in descending order. */
class TopList {
  readonly items: Array<{ score: number; record: ReportRecord }> = [];
  constructor(private readonly size: number) {}
  offer(score: number, record: ReportRecord): void {
    if (this.items.length === this.size && score <= (this.items.at(-1)?.score ?? 0)) return;
    const at = this.items.findIndex((i) => score > i.score);
    this.items.splice(at === -1 ? this.items.length : at, 0, { score, record });
    if (this.items.length > this.size) this.items.pop();
  }
  records(): ReportRecord[] {
    return this.items.map((i) => i.record);
  }
}

export class FigureTally {
  private readonly latencies: number[] = [];
  private readonly counts = {
    images: 0,
    ok: 0,
    empty: 0,
    low_confidence: 0,
    errors: 0,
    skipped: 0,
    aborted: 0,
    processed: 0,
    refused: 0,
    unanswered: 0,
    processed_documents: 0,
    attempts: 0,
    costUnknown: 0,
  };
  private cost = 0;
  private readonly tokens = { input: 0, output: 0, image: 0 };
  private readonly volume = new VolumeTally();
  private readonly pages = new PageTally();
  /** When worked-out images were in flight: the rates' time, as the run summary counts it (busy-time.ts). */
  private readonly busy = new BusyTime();
  private readonly rateLimited = { count: 0, wait_ms: 0 };
  private retriesFromRecords = 0;
  /** Records by successOutcome (runs/quality.ts), as the run summary counts them: the success rate. */
  private readonly outcomes = { success: 0, failure: 0 };
  private readonly cache = { hits: 0, misses: 0, dedup: 0, near_dup: 0 };
  private readonly histogram = HISTOGRAM_UPPER_MS.map(() => 0);
  private readonly groups = new Map<string, GroupFigures>();
  private readonly byCode = new Map<string, number>();
  private readonly slowest = new TopList(TOP);
  private readonly expensive = new TopList(TOP);
  private readonly failed: ReportRecord[] = [];
  private failedTotal = 0;
  private readonly savings = new SavingsTally();
  /** Per record: [finished epoch ms, error?, retries] for the throughput chart. */
  private readonly finishes: Array<[number, boolean, number]> = [];
  private firstStart = Number.POSITIVE_INFINITY;
  private lastFinish = Number.NEGATIVE_INFINITY;

  add(record: ReportRecord): void {
    const c = this.counts;
    c.images++;
    this.pages.add(record);
    const outcome = successOutcome(
      { ...record, confidence: record.confidence ?? null },
      defaultMinConfidence(record.provider),
    );
    if (outcome !== 'not_attempted') this.outcomes[outcome]++;
    if (record.status === 'ok') {
      // Judged as the run summary judges it: an all-null answer or one below the engine's
      // calibration is not a success.
      // The run's own judgement when the record carries it (`quality`), else the same rule.
      const ok = { status: record.status, output: record.output, confidence: record.confidence ?? null };
      c[record.quality ?? qualityOf(ok, defaultMinConfidence(record.provider)) ?? 'ok']++;
    } else if (record.status === 'skipped') c.skipped++;
    else if (isAborted(record)) c.aborted++;
    else {
      c.errors++;
      const code = record.error?.code ?? 'INTERNAL';
      this.byCode.set(code, (this.byCode.get(code) ?? 0) + 1);
      this.failedTotal++;
      if (this.failed.length < TOP) this.failed.push(record);
    }
    // As the run summary counts them (volume.ts readOutcome): a non-image file is refused, not processed.
    const read = readOutcome(record);
    if (read === 'refused') c.refused++;
    if (read === 'unanswered') c.unanswered++;
    if (read === 'processed') {
      c.processed++;
      if (record.pages !== undefined) c.processed_documents++;
    }
    c.attempts += record.attempts;
    this.rateLimited.count += record.rate_limited?.count ?? 0;
    this.rateLimited.wait_ms += record.rate_limited?.wait_ms ?? 0;
    this.retriesFromRecords += Math.max(0, record.attempts - 1);
    const lookup = cacheLookupOf(record);
    if (lookup === 'hit') this.cache.hits++;
    else if (lookup === 'miss') this.cache.misses++;
    else if (lookup === 'dedup') this.cache.dedup++;
    else if (lookup === 'near-dup') this.cache.near_dup++;
    this.volume.add(record);
    this.tokens.input += record.usage.input_tokens;
    this.tokens.output += record.usage.output_tokens;
    this.tokens.image += record.usage.image_tokens;
    if (record.cost_usd === null) {
      if (record.attempts > 0) c.costUnknown++;
    } else this.cost += record.cost_usd;
    if (record.status !== 'skipped' && record.attempts > 0 && !isAborted(record)) {
      this.latencies.push(record.latency_ms);
      const bin = HISTOGRAM_UPPER_MS.findIndex((upper) => record.latency_ms <= upper);
      this.histogram[bin] = (this.histogram[bin] ?? 0) + 1;
      this.slowest.offer(record.latency_ms, record);
    }
    if ((record.cost_usd ?? 0) > 0) this.expensive.offer(record.cost_usd ?? 0, record);
    const key = `${record.pattern}\u0000${record.provider}\u0000${record.model}`;
    const group = this.groups.get(key) ?? {
      pattern: record.pattern,
      provider: record.provider,
      model: record.model,
      images: 0,
      cost_usd: 0,
      input_tokens: 0,
      output_tokens: 0,
      image_tokens: 0,
    };
    group.images++;
    group.cost_usd += record.cost_usd ?? 0;
    group.input_tokens += record.usage.input_tokens;
    group.output_tokens += record.usage.output_tokens;
    group.image_tokens += record.usage.image_tokens;
    this.groups.set(key, group);
    this.savings.add(record);
    if (record.finished_at) {
      const finished = Date.parse(record.finished_at);
      this.firstStart = Math.min(this.firstStart, finished - record.latency_ms);
      this.lastFinish = Math.max(this.lastFinish, finished);
      this.finishes.push([finished, record.status === 'error', Math.max(0, record.attempts - 1)]);
      // The rates' time: only records whose answer was worked out (not reused, not unread).
      if (isWorked(record)) this.busy.add(finished - record.latency_ms, finished);
    }
  }

  figures(
    events: readonly TimelineEvent[] = [],
    waits?: { held_ms: number; paced_ms: number },
  ): ReportFigures {
    const c = this.counts;
    const sorted = Float64Array.from(this.latencies).sort();
    const wallS = this.lastFinish > this.firstStart ? (this.lastFinish - this.firstStart) / 1000 : 0;
    // Rounded to 10 ms as the run summary's `processing_s`, the rates computed from it as there.
    const workS = Math.round(this.busy.seconds() * 100) / 100;
    const retries = events.filter((event) => event.kind === 'retry').length;
    const volume = this.volume.toJSON();
    const pages = this.pages.toJSON();
    return {
      ...(pages ? { pages } : {}),
      headline: {
        images: c.images,
        ok: c.ok,
        empty: c.empty,
        low_confidence: c.low_confidence,
        errors: c.errors,
        skipped: c.skipped,
        aborted: c.aborted,
        processed: c.processed,
        refused: c.refused,
        unanswered: c.unanswered,
        not_found: this.byCode.get('NOT_FOUND') ?? 0,
        processed_documents: c.processed_documents,
        success_rate: successRateOf(this.outcomes),
        wall_s: wallS,
        processing_s: workS,
        from_cache: volume.reused,
        throughput: {
          images: volume.images,
          pages: volume.pages,
          documents: volume.documents,
          seconds: workS,
        },
        images_per_hour: perHour(volume.images, workS),
        documents_per_hour: perHour(volume.documents, workS),
        latency_ms: {
          p50: nearestRank(sorted, 50),
          p95: nearestRank(sorted, 95),
          p99: nearestRank(sorted, 99),
          max: sorted.length ? (sorted[sorted.length - 1] ?? 0) : 0,
        },
        cost_usd: roundUsd(this.cost),
        cost_per_image_usd: c.images ? roundUsd(this.cost / c.images) : 0,
        cost_unknown: c.costUnknown,
        tokens: { ...this.tokens },
        bytes: volume.bytes,
        cache: { ...this.cache },
        attempts: c.attempts,
        rate_limited: {
          count: this.rateLimited.count,
          wait_ms: Math.round(this.rateLimited.wait_ms),
          held_ms: waits ? Math.round(waits.held_ms) : null,
          paced_ms: waits ? Math.round(waits.paced_ms) : null,
        },
        retries: events.length > 0 ? retries : this.retriesFromRecords,
        retries_from: events.length > 0 ? 'events' : 'records',
      },
      savings: this.savings.result(this.cost),
      histogram: { upperMs: HISTOGRAM_UPPER_MS, counts: [...this.histogram] },
      throughput: this.throughput(events),
      groups: [...this.groups.values()]
        .map((group) => ({ ...group, cost_usd: roundUsd(group.cost_usd) }))
        .sort((a, b) => b.cost_usd - a.cost_usd || b.images - a.images),
      errorsByCode: Object.fromEntries([...this.byCode].sort((a, b) => b[1] - a[1])),
      slowest: this.slowest.records(),
      mostExpensive: this.expensive.records(),
      failed: this.failed,
      failedTotal: this.failedTotal,
    };
  }

  /** Images finished per bin (at most 60 bins, whole seconds wide), with errors, retries and 429s. */
  private throughput(events: readonly TimelineEvent[]): Throughput | null {
    if (this.finishes.length === 0) return null;
    const start = Math.floor(this.firstStart / 1000) * 1000;
    const spanS = Math.max(1, Math.ceil((this.lastFinish - start) / 1000));
    const binS = Math.max(1, Math.ceil(spanS / 60));
    const bins = Math.max(1, Math.ceil(spanS / binS));
    const zero = () => new Array<number>(bins).fill(0);
    const out: Throughput = {
      binS,
      startMs: start,
      images: zero(),
      errors: zero(),
      retries: zero(),
      rateLimited: zero(),
      retriesFrom: events.length > 0 ? 'events' : 'records',
    };
    const binOf = (at: number) => Math.min(bins - 1, Math.max(0, Math.floor((at - start) / 1000 / binS)));
    for (const [at, error, retries] of this.finishes) {
      const bin = binOf(at);
      out.images[bin] = (out.images[bin] ?? 0) + 1;
      if (error) out.errors[bin] = (out.errors[bin] ?? 0) + 1;
      if (out.retriesFrom === 'records') out.retries[bin] = (out.retries[bin] ?? 0) + retries;
    }
    for (const event of events) {
      const bin = binOf(event.at);
      const series = event.kind === 'retry' ? out.retries : out.rateLimited;
      series[bin] = (series[bin] ?? 0) + 1;
    }
    return out;
  }
}
