/** The human-readable run summary printed at the end of `visionpipe run`. */

import type { FailureReport } from '../runs/failures.js';
import type { PageTotals } from '../runs/page-tally.js';
import { formatSuccessRate, type Summary } from '../runs/summary.js';
import { EXIT } from './exit-codes.js';
import { formatBytes, formatDuration, plural } from './format.js';

/**
 * Why a run stopped before every input was done and how many inputs were left; `scanning`:
 * a `--watch` stopped while its first scan of the folder was under way.
 */
export interface StopInfo {
  reason: 'budget' | 'signal';
  notProcessed: number;
  scanning?: boolean;
}

export function printSummary(
  summary: Summary,
  context: {
    results: string;
    /** The run was cut short; `stop` says why and how many inputs were left when that is known. */
    stopped: boolean;
    /** The run stopped for --max-cost-usd or a signal, leaving this many inputs unprocessed. */
    stop?: StopInfo;
    provider: string;
    model: string;
    /** Where the confidence threshold comes from, e.g. "--min-confidence" or "engine calibration". */
    confidenceSource?: string;
    /** The failed inputs to name and the next steps to suggest. */
    failures?: FailureReport;
    /** The --format-dir folder, when outputs were written there. */
    formatDir?: string;
    /** The --combine file and how many outputs it holds. */
    combined?: { file: string; outputs: number };
  },
  out: NodeJS.WritableStream = process.stdout,
): void {
  const lines: string[] = [];
  const byCode = Object.entries(summary.errors_by_code)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  // Rates only over images this run worked out: resumed, reused and unread records are apart.
  const t = summary.throughput;
  const rate =
    t.images > 0
      ? `${processedWhat(t)} processed in ${formatDuration(t.seconds * 1000)} (${perHourText(t.images_per_hour)} images/hour${t.documents > 0 ? `, ${perHourText(t.documents_per_hour)} documents/hour` : ''})`
      : 'no image processed';
  const notFound = summary.errors_by_code.NOT_FOUND ?? 0;
  const notRead =
    summary.total -
    summary.processed -
    summary.refused -
    summary.unanswered -
    summary.resumed -
    summary.aborted -
    notFound;
  const apart = [
    summary.from_cache ? `${summary.from_cache} ${reusedFrom(summary.cache)}` : '',
    keptLine(summary),
    summary.refused > 0 ? `${summary.refused} read and refused (not a usable image or document)` : '',
    summary.unanswered > 0 ? `${summary.unanswered} read, no answer (errors below)` : '',
    notFound > 0 ? `${notFound} not found (NOT_FOUND: never read)` : '',
    notRead > 0 ? `${notRead} not read` : '',
    summary.skipped_files > 0 ? skippedFilesText(summary.skipped_files) : '',
    summary.duplicate_inputs
      ? `${summary.duplicate_inputs} named twice in the arguments (${summary.duplicate_inputs === 1 ? 'duplicate' : 'duplicates'} dropped)`
      : '',
  ].filter(Boolean);
  lines.push(
    `\n${headline(summary, context.stop)}: ${rate}${apart.length ? ` · ${apart.join(' · ')}` : ''} with ${context.provider}/${context.model}`,
  );
  const threshold =
    summary.min_confidence === null
      ? ''
      : ` · low confidence ${summary.low_confidence} (below ${summary.min_confidence}${context.confidenceSource ? `, ${context.confidenceSource}` : ''})`;
  lines.push(
    `  ok ${summary.ok} · empty ${summary.empty} (all fields null)${threshold} · errors ${summary.errors}${byCode ? ` (${byCode})` : ''} · skipped ${summary.skipped}${summary.aborted ? ` · aborted ${summary.aborted} (stopped in flight; the next run redoes them)` : ''} · success ${formatSuccessRate(summary.success_rate)}`,
  );
  if (summary.pages) lines.push(`  ${pagesLine(summary.pages)}`);
  lines.push(`  ${latencyLine(summary)}`);
  lines.push(`  ${bytesLine(summary)}`);
  lines.push(
    `  tokens ${summary.tokens.total.toLocaleString('en-US')}${summary.tokens.estimated ? ' (some estimated)' : ''} · cost $${summary.cost_usd.toFixed(4)}${summary.cost_unknown ? ` (+${summary.cost_unknown} images at an unknown price)` : ''}`,
  );
  lines.push(`  ${cacheLine(summary.cache)}`);
  if (summary.resumed > 0)
    lines.push(
      `  latency, bytes, tokens, cost, cache and alerts: this run's images only (the ${summary.resumed} kept are the earlier run's)`,
    );
  const waited = summary.rate_limited;
  if (waited.count > 0 || summary.retries > 0 || waited.paced_ms >= 1000 || waited.held_ms >= 1000)
    lines.push(`  ${rateLimitLine(summary)}`);
  if (summary.dependency_notes) lines.push(`  ${dependencyNotesLine(summary.dependency_notes)}`);
  lines.push(`  results ${context.results}`);
  if (context.formatDir) lines.push(`  formatted outputs in ${context.formatDir}`);
  if (context.combined)
    lines.push(`  combined ${plural(context.combined.outputs, 'output')} in ${context.combined.file}`);
  if (summary.superseded)
    lines.push(
      `  ${plural(summary.superseded, 'record')} replaced by a later record of the same file (the latest counts)${context.failures?.later_succeeded ? `; ${plural(context.failures.later_succeeded, 'failure')} later succeeded` : ''}`,
    );
  lines.push(...failureLines(context.failures, context.results));
  for (const alert of summary.alerts) lines.push(`  ⚠ ${alert}`);
  for (const warning of summary.warnings ?? []) lines.push(`  ⚠ ${warning}`);
  if (context.stop?.reason === 'budget')
    lines.push(
      `  stopped for the cost budget (--max-cost-usd): ${plural(context.stop.notProcessed, 'input')} not processed; run again with a larger budget to continue (exit code ${EXIT.budgetStopped})`,
    );
  else if (context.stop?.scanning)
    lines.push(
      `  stopped (Ctrl-C/SIGTERM) while scanning the watched folder: ${plural(context.stop.notProcessed, 'file')} found so far not processed; run again to continue (exit code ${EXIT.stopped})`,
    );
  else if (context.stop?.reason === 'signal')
    lines.push(
      `  stopped early (Ctrl-C/SIGTERM): ${plural(context.stop.notProcessed, 'input')} not processed; run again to continue (exit code ${EXIT.stopped})`,
    );
  else if (context.stopped)
    lines.push('  stopped early: inputs not started were not processed (run again to continue)');
  out.write(`${lines.join('\n')}\n`);
}

/** "cache 3 hits · 2 misses · 1 dedup", or "cache off · 1 dedup" when the run used none (--cache off). */
function cacheLine(cache: Summary['cache']): string {
  const nearDup = cache.near_dup ? ` · ${cache.near_dup} near-dup` : '';
  if (cache.mode === 'off') return `cache off · ${cache.dedup} dedup${nearDup}`;
  return `cache ${cache.hits} hits · ${cache.misses} misses · ${cache.dedup} dedup${nearDup}`;
}

/** Where reused answers came from: "from cache", "from duplicates", or "from cache or duplicates". */
function reusedFrom(cache: Summary['cache']): string {
  const duplicates = cache.dedup + cache.near_dup > 0;
  if (!duplicates) return 'from cache';
  return cache.hits > 0 ? 'from cache or duplicates' : 'from duplicates';
}

/**
 * "47 inputs", or for a run cut short "stopped (Ctrl-C/SIGTERM) after 12 of 47 inputs, 35
 * not processed" (images aborted in flight are among the not processed: the next run redoes them).
 */
function headline(
  summary: Summary,
  stop: { reason: 'budget' | 'signal'; notProcessed: number } | undefined,
): string {
  // Inputs given, not records: a document read page by page is one input.
  if (!stop) return plural(summary.inputs, 'input');
  const done = Math.max(0, summary.inputs - summary.aborted);
  const why = stop.reason === 'budget' ? 'for the cost budget' : '(Ctrl-C/SIGTERM)';
  return `stopped ${why} after ${done} of ${plural(inputsGiven(summary, stop), 'input')}, ${stop.notProcessed} not processed`;
}

/**
 * Every input given to a run, those a stop left unstarted included (they have no record):
 * the ones finished (`inputs` − `aborted`) plus `notProcessed` (aborted and unstarted).
 * The text headline's "of N" and `--json`'s `inputs` of a stopped run.
 */
export function inputsGiven(
  summary: Pick<Summary, 'inputs' | 'aborted'>,
  stop: { notProcessed: number } | undefined,
): number {
  if (!stop) return summary.inputs;
  return Math.max(0, summary.inputs - summary.aborted) + stop.notProcessed;
}

/**
 * The summary's rate-limit line (definitions: Summary.rate_limited): "waiting on rate limit:
 * held 1m02s (wall time with a call held) · calls waited 3m12s in all (2m after 429s, 1m12s
 * paced before first sends) · 31 × refused (429/overloaded) · 4 retries after errors".
 */
export function rateLimitLine(summary: Pick<Summary, 'rate_limited' | 'retries'>): string {
  const w = summary.rate_limited;
  const retries = `${summary.retries} ${summary.retries === 1 ? 'retry' : 'retries'} after errors`;
  // Waits under WAIT_SHOWN_MS are scheduling noise, not rate limiting: not shown.
  if (w.held_ms < WAIT_SHOWN_MS && w.wait_ms + w.paced_ms < WAIT_SHOWN_MS)
    return `rate limit: no wait · ${w.count} × refused (429/overloaded) · ${retries}`;
  return `waiting on rate limit: held ${formatDuration(w.held_ms)} (wall time with a call held) · calls waited ${formatDuration(w.wait_ms + w.paced_ms)} in all (${formatDuration(w.wait_ms)} after 429s, ${formatDuration(w.paced_ms)} paced before first sends) · ${w.count} × refused (429/overloaded) · ${retries}`;
}

/** Waits shorter than this, ms, are not rate limiting (timer and scheduling noise): the summary omits them. */
export const WAIT_SHOWN_MS = 50;

/**
 * "tesseract printed 3 lines (captured, not errors of this run): Image too small to scale!!
 * (Nx N vs min width of N) ×2 · Estimating resolution as N ×1 (VISIONPIPE_DEBUG=ocr shows each)".
 */
export function dependencyNotesLine(notes: NonNullable<Summary['dependency_notes']>): string {
  const kinds = notes.lines.map((line) => `${line.text} ×${line.count}`).join(' · ');
  return `tesseract printed ${plural(notes.count, 'line')} (captured, not errors of this run): ${kinds} (VISIONPIPE_DEBUG=ocr shows each)`;
}

/** A rate as printed: "1,234", or "–" when there is none (nothing worked out). */
export function perHourText(rate: number | null): string {
  return rate === null ? '–' : rate.toLocaleString('en-US');
}

/**
 * Latency percentiles of this run's answered provider calls. A run with none says why
 * instead of `p50 0 ms`: calls refused (429/overloaded) or stopped in flight were provider
 * calls, but none was answered ("no answered call (2 refused)"); answers from the cache, a
 * duplicate or an earlier run made no call at all.
 */
export function latencyLine(
  summary: Pick<Summary, 'latency_ms' | 'from_cache' | 'resumed'> & {
    rate_limited?: Pick<Summary['rate_limited'], 'count'>;
  },
): string {
  const l = summary.latency_ms;
  if (l.max === 0) {
    const refused = summary.rate_limited?.count ?? 0;
    const why = [
      refused ? `${refused} refused` : '',
      summary.from_cache ? `${summary.from_cache} cached` : '',
      summary.resumed ? `${summary.resumed} kept` : '',
    ].filter(Boolean);
    const what = refused ? 'no answered call' : 'no provider call in this run';
    return `latency: ${what}${why.length ? ` (${why.join(', ')})` : ''}`;
  }
  return `latency p50 ${formatDuration(l.p50)} · p95 ${formatDuration(l.p95)} · p99 ${formatDuration(l.p99)} · max ${formatDuration(l.max)}`;
}

/** The "Resuming" line at the start of a run: how many earlier results are on file (summary's `earlier_results`). */
export function resumingLine(earlier: number): string {
  return `Resuming: ${plural(earlier, 'result')} of an earlier run of this command on file; an input unchanged since is not read again (the summary says how many were kept)`;
}

/** "3 kept from an earlier run", with how many of the results found on file were not (resumingLine). */
function keptLine(summary: Pick<Summary, 'resumed' | 'earlier_results'>): string {
  const unused = summary.earlier_results - summary.resumed;
  if (summary.resumed === 0 && unused <= 0) return '';
  const kept = `${summary.resumed} kept from an earlier run`;
  return unused > 0
    ? `${kept} (of ${summary.earlier_results} on file; ${unused} for inputs not given this time or changed since)`
    : kept;
}

/**
 * What the run worked out: "12 images", or with documents "3 images and 2 documents (7
 * pages)" (a page counts as an image in the rate; a document is not an image).
 */
/**
 * What a run worked out, as the headline says it: "12 images", or "1 image and 1 document
 * (3 pages)" (`images` counts a document's pages one by one, `documents` each document once
 * in either pages mode: runs/volume.ts). Shared by the run summary and `report`.
 */
export function processedWhat(t: { images: number; pages: number; documents: number }): string {
  if (t.documents === 0) return plural(t.images, 'image');
  const images = t.images - t.pages;
  const documents = `${plural(t.documents, 'document')} (${plural(t.pages, 'page')})`;
  return images > 0 ? `${plural(images, 'image')} and ${documents}` : documents;
}

/**
 * Bytes read and bytes sent (runs/volume.ts), always named apart so a number never reads as
 * an upload when nothing went out: "bytes 150 kB read · 98 kB sent (from 99.7 kB original,
 * -2 %)". The reduction is only over the inputs that were sent, and a run that sent nothing
 * says so instead of "-100 %".
 */
export function bytesLine(
  summary: Pick<Summary, 'bytes' | 'from_cache' | 'processed'> & {
    throughput?: Pick<Summary['throughput'], 'images'>;
    refused?: number;
    unanswered?: number;
  },
): string {
  const { original, sent, original_sent: base } = summary.bytes;
  // Images worked out without a record of their bytes (rejected by local triage) were read.
  // Inputs read and refused (or read and never answered) were read: their size is not in the records.
  const readNoSize = (summary.refused ?? 0) + (summary.unanswered ?? 0);
  if (original === 0 && sent === 0)
    return (summary.throughput?.images ?? 0) > 0 || readNoSize > 0
      ? 'bytes read locally only (size not recorded) · 0 B sent, nothing went to a provider'
      : 'bytes: nothing read, 0 B sent';
  if (sent === 0) {
    const why =
      summary.from_cache > 0 && summary.from_cache === summary.processed
        ? 'all from cache'
        : 'nothing went to a provider';
    return `bytes ${formatBytes(original)} read · 0 B sent, ${why}`;
  }
  const change = base > 0 ? Math.round((sent / base - 1) * 100) : 0;
  const unsent = original - base;
  return `bytes ${formatBytes(original)} read · ${formatBytes(sent)} sent (from ${formatBytes(base)} original, ${change >= 0 ? '+' : '-'}${Math.abs(change)} %)${
    unsent > 0
      ? ` · ${formatBytes(unsent)} read, not sent (from cache, failed before a call, or held when stopped)`
      : ''
  }`;
}

/** Names the first failed inputs, where the rest are, and a next step per common code. */
function failureLines(report: FailureReport | undefined, results: string): string[] {
  if (!report || report.count === 0) return [];
  const k = report.by_kind;
  const kinds = [
    k.error ? plural(k.error, 'error') : '',
    k.empty ? `${k.empty} empty` : '',
    k.low_confidence ? `${k.low_confidence} low confidence` : '',
  ].filter(Boolean);
  // Empty and low-confidence outputs are `status: "ok"`, not failures: "not usable" then.
  const lines = [
    k.error === report.count
      ? `  failed (${report.count}):`
      : `  not usable (${report.count}: ${kinds.join(' · ')}):`,
  ];
  for (const f of report.first) lines.push(`    ${f.input}  ${f.code}: ${f.message}`);
  const rest = report.count - report.first.length;
  const qualities = [k.empty ? '"empty"' : '', k.low_confidence ? '"low_confidence"' : ''].filter(Boolean);
  const marked = [
    k.error ? 'status "error"' : '',
    qualities.length ? `quality ${qualities.join(' or ')}` : '',
  ].filter(Boolean);
  const where = report.file
    ? `all ${report.count} in ${report.file} (each with its kind)`
    : `all are in ${results} (${marked.join('; ')}); --failures FILE writes them apart`;
  lines.push(`    ${rest > 0 ? `… and ${rest} more; ` : ''}${where}`);
  for (const { code, step } of report.next_steps) lines.push(`  next (${code}): ${step}`);
  return lines;
}

/** `pages 2 read · 1 blank (not sent) · 0 skipped, in 1 document`: the summary's and report's page line. */
export function pagesLine(p: PageTotals): string {
  return `pages ${p.read} read · ${p.blank} blank (not sent) · ${p.skipped} skipped, in ${plural(p.documents, 'document')}`;
}

/** "3 files skipped (not images or documents)": files a folder walk passed over (runs/inputs.ts), as run, estimate and optimize say it. */
export function skippedFilesText(count: number): string {
  return `${count} ${count === 1 ? 'file' : 'files'} skipped (not images or documents)`;
}
