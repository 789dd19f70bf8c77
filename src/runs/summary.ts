/**
 * The run summary, accumulated record by record in constant memory: counts, errors by
 * code, success rate, throughput, latency percentiles, bytes, tokens and cost, and the
 * guide's alert thresholds (success below 95 %, p95 above 15 s) as warnings.
 *
 * `ok` counts only outputs worth having: an `ok` record whose fields are all null is
 * `empty`, one whose confidence is below the run's threshold is `low_confidence`
 * (src/runs/quality.ts); neither counts as a success. Rates count only images whose
 * answer this run worked out (a document's page counts as one image), over the time they
 * took: records kept from an earlier run (`resumed`), answers reused from the cache or a
 * duplicate (`from_cache`) and inputs that were never read (`NOT_FOUND`) are reported apart.
 * Bytes and rates are counted as runs/volume.ts defines them, like the metrics and the report.
 *
 * Records kept from an earlier run are counted in the totals (`total`, `ok`, …, `resumed`)
 * and nowhere else: their latency, cache lookups, bytes, tokens and cost belong to the run
 * that made them, and the alerts judge only the records this run made. A resumed run that
 * processed nothing reports no latency and raises no alert.
 */
import { LatencyHistogram, type LatencyPercentiles } from '../metrics/latency.js';
import type { RunRecord } from '../pipeline/record.js';
import { BusyTime } from './busy-time.js';
import { PageTally, type PageTotals } from './page-tally.js';
import { isAborted, type Quality, qualityOf, successOutcome } from './quality.js';
import { cacheLookupOf, isWorked, perHour, readOutcome, VolumeTally } from './volume.js';

export interface Summary {
  total: number;
  /** `ok` records with data at or above the confidence threshold. */
  ok: number;
  /** `ok` records whose every field is null: nothing was read. */
  empty: number;
  /** `ok` records below `min_confidence` (not enforced; enforced ones are LOW_CONFIDENCE errors). */
  low_confidence: number;
  /** Error records, those ABORTED by a stop excepted (`aborted`). */
  errors: number;
  skipped: number;
  /**
   * Images stopped in flight by Ctrl-C/SIGTERM (ABORTED records, redone by the next run):
   * not finished, so neither processed nor failed; not in `errors`, `errors_by_code`, the
   * rates or the success rate.
   */
  aborted: number;
  resumed: number;
  /**
   * Results of an earlier run of the command found on file when this run started (what the
   * "Resuming: N results …" line says); `resumed` of them were kept, the others were for
   * inputs not given this time or since changed.
   */
  earlier_results: number;
  /**
   * Inputs given (files, URLs, buffers; kept ones included): `total` records with a
   * document read page by page (`--pages each`) counted once; what the headline counts.
   */
  inputs: number;
  /**
   * Records of this run whose answer it got: worked out (runs/volume.ts isWorked) or reused
   * from the cache or a duplicate. Not resumed, not a missing input, not aborted, and not
   * `refused`: a file that is not an image is an input read and refused, not an image
   * processed. The text's "N images processed" is `throughput.images` (reused apart).
   */
  processed: number;
  /**
   * Inputs of this run that were read and refused before any call: not an image, damaged,
   * too large (an error record with no attempt). Neither processed nor in the rates.
   */
  refused: number;
  /**
   * Inputs of this run that were read, are usable, and got no answer: every call refused by a
   * 429, an open circuit, a missing key (runs/volume.ts readOutcome). Errors, not refusals.
   */
  unanswered: number;
  /**
   * Files in the input folders passed over without a record: not an image or document by
   * their name (`notes.txt`, `data.json`), or hidden (`.DS_Store`); runs/inputs.ts. Not
   * in `total`. A file named explicitly is never passed over: it gets a typed error record.
   */
  skipped_files: number;
  /**
   * Files named more than once by the arguments (the same path twice, or a file named and
   * inside a folder named too), dropped: one input and one record per resolved path.
   * Absent when none.
   */
  duplicate_inputs?: number;
  /** Of `processed`, the records of documents (PDF, multi-page TIFF, HEIC): one per document, or per page with `--pages each`. */
  processed_documents: number;
  /**
   * ok / (ok + empty + low_confidence + errors) over every record counted (kept ones
   * included), 0–1 rounded to 4 places, as runs/quality.ts successOutcome counts one record
   * (the live alert's definition too): skipped and aborted images are not failures. null
   * when no image was attempted: no "100 %" over nothing.
   */
  success_rate: number | null;
  /** The confidence threshold applied, null when the provider gives none. */
  min_confidence: number | null;
  errors_by_code: Record<string, number>;
  wall_s: number;
  /** Records of this run answered from the cache or by a duplicate: nothing worked out, nothing sent. */
  from_cache: number;
  /** Seconds during which an image this run worked out was in flight (runs/busy-time.ts; throughput.seconds). */
  processing_s: number;
  /** throughput.images_per_hour (null when no image was worked out). */
  images_per_hour: number | null;
  /**
   * What this run worked out and how fast (runs/volume.ts): `images` are plain images and
   * document pages (a page is one image) not reused from the cache or a duplicate, nor
   * resumed; `documents` the documents among them; per hour over `seconds`; null when none.
   */
  throughput: {
    images: number;
    /** Of `images`, the pages of documents. */
    pages: number;
    documents: number;
    seconds: number;
    images_per_hour: number | null;
    documents_per_hour: number | null;
  };
  latency_ms: LatencyPercentiles;
  /**
   * Cache lookups of this run's records. `mode` is the cache the run used (`--cache`:
   * memory, sqlite, redis, or `off`: no cache, `hits`/`misses` then stay 0 and only
   * duplicates within the run are reused); absent when the caller set none (`report`).
   */
  cache: { hits: number; misses: number; dedup: number; near_dup: number; mode?: string };
  /**
   * This run's bytes (runs/volume.ts): `original` every input read, once per input (a
   * document once, in either pages mode); `sent` the prepared images uploaded in its calls;
   * `original_sent` the original bytes of the inputs that were sent (the reduction's base).
   */
  bytes: { original: number; sent: number; original_sent: number };
  tokens: { input: number; output: number; image: number; total: number; estimated: boolean };
  cost_usd: number;
  /** Records whose model has no known price (not counted in cost_usd). */
  cost_unknown: number;
  /** Runs that met documents only: their pages read, blank and skipped (runs/page-tally.ts). */
  pages?: PageTotals;
  /**
   * Time on the rate limit, one definition for the progress line, this summary and
   * `report` (docs/flow-control.md "Time waiting on the rate limit"):
   * - `held_ms`: wall-clock ms during which at least one call of this run was held back by
   *   the rate limit (pacing, --rpm/--tpm, the pause after a 429); at most `wall_s`.
   * - `wait_ms`: the waits to send refused calls again (429, 529, busy 503), added up over
   *   calls (the records' `rate_limited`, each image's within --max-retry-wait);
   * - `paced_ms`: the waits of calls before their first send, added up over calls (no
   *   record holds them). `wait_ms + paced_ms` is "calls waited … in all": with several
   *   calls held together it exceeds the wall time.
   * `count`: the calls refused.
   */
  rate_limited: { count: number; wait_ms: number; paced_ms: number; held_ms: number };
  /** Failed calls sent again (errors, not rate-limit refusals), as the flow published them. */
  retries: number;
  /**
   * What a dependency printed during the run (tesseract: `Image too small to scale`,
   * `Estimating resolution as 157`…), captured so it never writes into the progress line:
   * how many lines, and each distinct line once with its count (at most 5). Absent when none.
   */
  dependency_notes?: { count: number; lines: Array<{ text: string; count: number }> };
  alerts: string[];
  /**
   * What was sent differs from what was given, by kind (records' `warnings`): "2 animated
   * inputs: frame 1 of each sent, the other frames not read".
   */
  warnings: string[];
  /**
   * `run --watch`: records replaced by a later record of the same path (a file read while
   * still being written, then again once complete). The latest record of a path is the one
   * counted in `total`, the outcomes and the success rate; the earlier one's work (bytes,
   * tokens, cost, latency) stays counted. Absent when none.
   */
  superseded?: number;
  /** `run --queue`: records whose provider call may have been paid twice (a worker died during it); absent when none. */
  possibly_paid?: number;
}

export const ALERT_THRESHOLDS = { minSuccessRate: 0.95, maxP95Ms: 15_000 } as const;

export interface SummaryOptions {
  /** Records with a confidence below this count as low_confidence. */
  minConfidence?: number;
}

export class RunSummary {
  private readonly latency = new LatencyHistogram();
  private readonly started = performance.now();
  /** When images this run worked out were in flight: the rates' time (busy-time.ts). */
  private readonly busy = new BusyTime();
  private counts = {
    total: 0,
    ok: 0,
    empty: 0,
    low_confidence: 0,
    errors: 0,
    skipped: 0,
    aborted: 0,
    resumed: 0,
    processed: 0,
    refused: 0,
    unanswered: 0,
    processed_documents: 0,
    skipped_files: 0,
  };
  private readonly minConfidence: number | undefined;
  private earlierResults = 0;
  /** This run's own attempted records (not resumed): the success-rate alert fires only when there are some. */
  private readonly thisRun = { attempted: 0 };
  /** Records by successOutcome (runs/quality.ts), kept ones included: the success rate. */
  private readonly outcomes = { success: 0, failure: 0 };

  constructor(options: SummaryOptions = {}) {
    this.minConfidence = options.minConfidence;
  }

  private readonly byCode = new Map<string, number>();
  /** Animated inputs of which one frame was sent. */
  private animated = 0;
  private possiblyPaid = 0;
  private superseded = 0;
  private duplicateInputs = 0;
  private readonly cache = { hits: 0, misses: 0, dedup: 0, near_dup: 0 };
  private readonly volume = new VolumeTally();
  private readonly tokens = { input: 0, output: 0, image: 0, total: 0, estimated: false };
  private cost = 0;
  private costUnknown = 0;
  private readonly pages = new PageTally();
  private readonly rateLimited = { count: 0, wait_ms: 0 };
  private retries = 0;
  private pacedMs = 0;
  private heldMs = 0;

  private dependencyNotes: Summary['dependency_notes'];
  private cacheMode: string | undefined;

  /** Sets the cache the run used (`--cache`); with `off` no lookup is a hit or a miss. */
  setCacheMode(mode: string): void {
    this.cacheMode = mode;
  }

  /** Sets what dependencies printed during the run (cli/dependency-notes.ts). */
  setDependencyNotes(notes: Summary['dependency_notes']): void {
    this.dependencyNotes = notes;
  }

  /** Sets the wall-clock ms during which at least one call was held by the rate limit (cli/wait-watch.ts). */
  setHeld(ms: number): void {
    this.heldMs = ms;
  }

  /** Adds the wait of a call before its first send (pacing: flow, --rpm/--tpm), ms. */
  addPacing(ms: number): void {
    this.pacedMs += ms;
  }

  /** Counts one failed call that was sent again (the flow's `retry` event, not a throttle). */
  /** Counts a file a folder walk passed over (runs/inputs.ts onSkipped). */
  addSkippedFile(): void {
    this.counts.skipped_files++;
  }

  /** Counts an argument naming a file already given (runs/inputs.ts onDuplicate). */
  addDuplicateInput(): void {
    this.duplicateInputs++;
  }

  addRetry(): void {
    this.retries++;
  }

  add(record: RunRecord): void {
    this.count(record);
    if (record.possibly_paid) this.possiblyPaid++;
    if (record.image?.frames !== undefined && record.image.frames > 1) this.animated++;
    this.spent(record);
    if (successOutcome(record, this.minConfidence) !== 'not_attempted') this.thisRun.attempted++;
    // Waits of this run only: a resumed record's were paid by the earlier run.
    this.rateLimited.count += record.rate_limited.count;
    this.rateLimited.wait_ms += record.rate_limited.wait_ms;
    // Bytes and work of this run only: a resumed record's were the earlier run's.
    this.volume.add(record);
    // An image aborted in flight was not finished: not processed, not in the rates' time.
    // An input read and refused before any call (not an image, damaged) is not processed.
    const read = readOutcome(record);
    if (read === 'refused') this.counts.refused++;
    if (read === 'unanswered') this.counts.unanswered++;
    if (read === 'processed') {
      this.counts.processed++;
      if (record.pages !== undefined) this.counts.processed_documents++;
      // A reused answer took no work: it is not in the rate's time.
      if (isWorked(record)) this.busy.add(performance.now() - record.latency_ms, performance.now());
    }
  }

  private count(record: RunRecord): void {
    this.tally(record, 1);
    this.pages.add(record);
  }

  /** Adds (`by` 1) or takes back (`by` -1) a record's outcome: total, quality or error code, success rate. */
  private tally(record: RunRecord, by: 1 | -1): void {
    this.counts.total += by;
    const outcome = successOutcome(record, this.minConfidence);
    if (outcome !== 'not_attempted') this.outcomes[outcome] += by;
    if (record.status === 'ok') this.counts[this.qualityOf(record)] += by;
    else if (record.status === 'skipped') this.counts.skipped += by;
    else if (isAborted(record)) this.counts.aborted += by;
    else {
      this.counts.errors += by;
      const code = record.error?.code ?? 'INTERNAL';
      const left = (this.byCode.get(code) ?? 0) + by;
      if (left > 0) this.byCode.set(code, left);
      else this.byCode.delete(code);
    }
  }

  /**
   * `run --watch`: takes back the outcome of `earlier`, a record of this run replaced by a
   * later record of the same path (added with `add`), so the latest record of a path is the
   * one counted. What `earlier` cost (bytes, tokens, latency, cache lookups) stays counted:
   * it was spent. Not for records of documents read page by page (several per path).
   */
  supersede(earlier: RunRecord): void {
    this.tally(earlier, -1);
    const read = readOutcome(earlier);
    if (read === 'refused') this.counts.refused--;
    if (read === 'unanswered') this.counts.unanswered--;
    this.superseded++;
  }

  /** The record's own `quality` when `run` judged it (run-records.ts), else judged here. */
  private qualityOf(record: RunRecord): Quality {
    return record.quality ?? qualityOf(record, this.minConfidence) ?? 'ok';
  }

  /** What this run spent on one of its own records: cache lookups, bytes, tokens, cost, latency. */
  private spent(record: RunRecord): void {
    const lookup = cacheLookupOf(record);
    // With no cache, nothing was looked up: a call is no "miss".
    if (lookup === 'hit') this.cache.hits++;
    else if (lookup === 'miss' && this.cacheMode !== 'off') this.cache.misses++;
    else if (lookup === 'dedup') this.cache.dedup++;
    else if (lookup === 'near-dup') this.cache.near_dup++;
    this.tokens.input += record.usage.input_tokens;
    this.tokens.output += record.usage.output_tokens;
    this.tokens.image += record.usage.image_tokens;
    this.tokens.total += record.usage.input_tokens + record.usage.output_tokens;
    this.tokens.estimated ||= record.usage.estimated && record.attempts > 0;
    if (record.cost_usd === null) {
      if (record.attempts > 0) this.costUnknown++;
    } else this.cost += record.cost_usd;
    if (record.status !== 'skipped' && record.attempts > 0 && !isAborted(record))
      this.latency.record(record.latency_ms);
  }

  /** How many earlier results the run found on file (ResumePlan.earlier): the one number the "Resuming" line and the summary show. */
  setEarlierResults(count: number): void {
    this.earlierResults = count;
  }

  /** Counts a record carried over from an earlier, interrupted run of the same command. */
  addResumed(record: RunRecord): void {
    this.count(record);
    this.counts.resumed++;
  }

  toJSON(): Summary {
    const wallS = (performance.now() - this.started) / 1000;
    const successRate = successRateOf(this.outcomes);
    const latency = this.latency.percentiles();
    const alerts: string[] = [];
    // One success rate, the one the summary prints, over the same records; the alert fires
    // only when this run attempted an image (a resumed run that made nothing raises none).
    if (this.thisRun.attempted > 0 && successRate !== null && successRate < ALERT_THRESHOLDS.minSuccessRate) {
      alerts.push(
        `success rate ${formatSuccessRate(successRate)} is below ${ALERT_THRESHOLDS.minSuccessRate * 100} %`,
      );
    }
    if (latency.p95 > ALERT_THRESHOLDS.maxP95Ms) {
      alerts.push(
        `p95 latency ${(latency.p95 / 1000).toFixed(1)} s is above ${ALERT_THRESHOLDS.maxP95Ms / 1000} s`,
      );
    }
    const pages = this.pages.toJSON();
    const processingS = this.busy.seconds();
    const volume = this.volume.toJSON();
    const throughput = {
      images: volume.images,
      pages: volume.pages,
      documents: volume.documents,
      seconds: Math.round(processingS * 100) / 100,
      // From the seconds shown (rounded to 10 ms), as `report` does: one rate from one number.
      images_per_hour: perHour(volume.images, Math.round(processingS * 100) / 100),
      documents_per_hour: perHour(volume.documents, Math.round(processingS * 100) / 100),
    };
    return {
      ...this.counts,
      inputs: this.pages.inputsOf(this.counts.total),
      earlier_results: this.earlierResults,
      success_rate: successRate,
      min_confidence: this.minConfidence ?? null,
      errors_by_code: Object.fromEntries(this.byCode),
      wall_s: Math.round(wallS * 100) / 100,
      from_cache: volume.reused,
      processing_s: throughput.seconds,
      images_per_hour: throughput.images_per_hour,
      throughput,
      latency_ms: latency,
      cache: { ...this.cache, ...(this.cacheMode === undefined ? {} : { mode: this.cacheMode }) },
      bytes: volume.bytes,
      tokens: { ...this.tokens },
      cost_usd: Math.round(this.cost * 1e6) / 1e6,
      cost_unknown: this.costUnknown,
      ...(pages ? { pages } : {}),
      rate_limited: {
        count: this.rateLimited.count,
        wait_ms: Math.round(this.rateLimited.wait_ms),
        paced_ms: Math.round(this.pacedMs),
        held_ms: Math.round(this.heldMs),
      },
      retries: this.retries,
      ...(this.dependencyNotes && this.dependencyNotes.count > 0
        ? { dependency_notes: this.dependencyNotes }
        : {}),
      alerts,
      ...(this.possiblyPaid > 0 ? { possibly_paid: this.possiblyPaid } : {}),
      ...(this.superseded > 0 ? { superseded: this.superseded } : {}),
      ...(this.duplicateInputs > 0 ? { duplicate_inputs: this.duplicateInputs } : {}),
      warnings: [
        ...(this.animated === 0
          ? []
          : [
              `${this.animated} animated input${this.animated === 1 ? '' : 's'}: frame 1 of each sent, the other frames not read`,
            ]),
        ...(this.possiblyPaid === 0
          ? []
          : [
              `${this.possiblyPaid} image${this.possiblyPaid === 1 ? '' : 's'} possibly paid twice: a worker died during the provider call and it was made again (records say possibly_paid; the cost shown counts one call)`,
            ]),
      ],
    };
  }
}

/**
 * The success rate of records counted by successOutcome (runs/quality.ts): successes over
 * successes and failures, 0–1 rounded to 4 places, or null when none was attempted.
 */
export function successRateOf(c: { success: number; failure: number }): number | null {
  const attempted = c.success + c.failure;
  return attempted === 0 ? null : Math.round((c.success / attempted) * 10_000) / 10_000;
}

/** A success rate as the summary and its alert print it: "10.4 %", or "–" over nothing. */
export function formatSuccessRate(rate: number | null): string {
  return rate === null ? '– (nothing attempted)' : `${(rate * 100).toFixed(1)} %`;
}
