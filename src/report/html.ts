/**
 * The report as one self-contained HTML file: figures rendered server-side as text,
 * charts drawn by Chart.js (bundled inline from its package, no CDN), thumbnails as data
 * URIs, and a Content-Security-Policy that forbids every network fetch, so the file
 * opens the same offline, attached to a mail or years later.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPORT_GENERATOR } from '../runs/output-guard.js';
import { redactedPrefix } from '../secrets.js';
import type { ReportFigures } from './figures.js';
import type { ReportRecord } from './read-results.js';
import { formatBytes } from './units.js';

export interface ReportContext {
  title: string;
  /** Where the records came from (shown, not read). */
  source: string;
  generatedAt: Date;
  /** Configuration and versions, shown as a table (never secrets: callers pass flags and versions only). */
  config: Record<string, string>;
  /** Input → data URI of its thumbnail. */
  thumbnails: ReadonlyMap<string, string>;
}

let chartSource: string | undefined;

/** Chart.js's UMD build, read once from the installed package (the report and the dashboard inline it). */
export function chartJs(): string {
  if (chartSource === undefined) {
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('chart.js'));
    chartSource = readFileSync(path.join(dist, 'chart.umd.min.js'), 'utf8');
  }
  return chartSource;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Text safe inside <script>: no closing tag, no HTML comment openers. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for an inline data block (`<` escaped so no content can close the script). */
function jsonBlock(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}
export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms).toLocaleString('en-US')} ms`;
}
export function formatUsd(usd: number): string {
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function figure(name: string, label: string, value: number, text: string, note = ''): string {
  return `<div class="tile"><dt>${escapeHtml(label)}</dt><dd data-figure="${name}" data-value="${value}">${escapeHtml(text)}</dd>${
    note ? `<small>${escapeHtml(note)}</small>` : ''
  }</div>`;
}

function outputText(record: ReportRecord): string {
  const value = record.status === 'error' ? record.error : record.output;
  return redactedPrefix(JSON.stringify(value, null, 2) ?? 'null', 1500, { ellipsis: '\n…' });
}

function imageRows(records: readonly ReportRecord[], thumbs: ReadonlyMap<string, string>): string {
  if (records.length === 0) return '<p class="none">none</p>';
  const rows = records.map((r) => {
    const thumb = thumbs.get(r.input);
    return `<tr data-input="${escapeHtml(r.input)}">
<td>${thumb ? `<img class="thumb" alt="" src="${thumb}">` : '<span class="nothumb">no preview</span>'}</td>
<td><div class="input">${escapeHtml(r.input)}${r.page === undefined ? '' : ` <span class="page">page ${r.page}${r.pages === undefined ? '' : ` of ${r.pages}`}</span>`}</div><div class="meta">${escapeHtml(
      `${r.status}${r.error ? ` · ${r.error.code}` : ''} · ${r.provider}/${r.model} · cache ${r.cache ?? '–'}`,
    )}</div></td>
<td class="num" data-latency="${r.latency_ms}">${escapeHtml(formatMs(r.latency_ms))}</td>
<td class="num" data-cost="${r.cost_usd ?? ''}">${r.cost_usd === null ? 'unknown' : escapeHtml(formatUsd(r.cost_usd))}</td>
<td class="num">${r.attempts}</td>
<td><pre>${escapeHtml(outputText(r))}</pre></td></tr>`;
  });
  return `<table class="images"><thead><tr><th></th><th>input</th><th>latency</th><th>cost</th><th>calls</th><th>output</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function histogramLabels(upper: readonly number[]): string[] {
  return upper.map((u, i) => {
    const lower = i === 0 ? 0 : (upper[i - 1] ?? 0);
    const f = (ms: number) => (ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`);
    return Number.isFinite(u) ? `≤ ${f(u)}` : `> ${f(lower)}`;
  });
}

/** Chart data handed to the page script: only series with something to draw. */
function chartData(figures: ReportFigures) {
  const h = figures.histogram;
  // Trailing empty bins carry nothing; leading ones show where latencies start.
  let last = h.counts.length - 1;
  while (last > 0 && h.counts[last] === 0) last--;
  const t = figures.throughput;
  const s = figures.savings.by;
  return {
    latency: { labels: histogramLabels(h.upperMs).slice(0, last + 1), counts: h.counts.slice(0, last + 1) },
    throughput: t
      ? {
          labels: t.images.map((_, i) => `${i * t.binS}s`),
          images: t.images,
          errors: t.errors,
          retries: t.retries,
          // 429s are known only from the run's events (live run, or its --log).
          rateLimited: t.retriesFrom === 'events' ? t.rateLimited : null,
          binS: t.binS,
        }
      : null,
    groups: figures.groups.map((g) => ({
      label: `${g.pattern} · ${g.provider}/${g.model}`,
      cost: g.cost_usd,
      input: g.input_tokens,
      output: g.output_tokens,
    })),
    errors: Object.entries(figures.errorsByCode),
    savings: [
      ['resizing', s.resizing],
      ['cache', s.cache],
      ['dedup', s.dedup],
      ['triage', s.triage],
      ['batch', s.batch],
    ],
  };
}

const PAGE_SCRIPT = `
const data = JSON.parse(document.getElementById('report-data').textContent);
Chart.defaults.animation = false;
Chart.defaults.responsive = true;
Chart.defaults.maintainAspectRatio = false;
const colours = { blue: '#2f6fde', red: '#d6453d', orange: '#e89b2c', grey: '#8a94a6', green: '#2e9e6b' };
function chart(id, config) { const el = document.getElementById(id); if (el) new Chart(el, config); }
chart('chart-latency', { type: 'bar', data: { labels: data.latency.labels, datasets: [{ label: 'images', data: data.latency.counts, backgroundColor: colours.blue }] },
  options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: 'images' } }, x: { title: { display: true, text: 'latency' } } } } });
if (data.throughput) {
  const t = data.throughput;
  chart('chart-throughput', { data: { labels: t.labels, datasets: [
    { type: 'bar', label: 'images per ' + t.binS + ' s', data: t.images, backgroundColor: colours.blue, order: 3 },
    { type: 'line', label: 'errors', data: t.errors, borderColor: colours.red, backgroundColor: colours.red, pointRadius: 2, order: 1 },
    { type: 'line', label: 'retries', data: t.retries, borderColor: colours.orange, backgroundColor: colours.orange, pointRadius: 2, order: 1 },
    ...(t.rateLimited ? [{ type: 'line', label: '429s', data: t.rateLimited, borderColor: colours.grey, backgroundColor: colours.grey, borderDash: [4, 3], pointRadius: 2, order: 1 }] : []) ] },
    options: { scales: { y: { beginAtZero: true }, x: { title: { display: true, text: 'time since start' } } } } });
}
chart('chart-cost', { type: 'bar', data: { labels: data.groups.map((g) => g.label), datasets: [{ label: 'USD', data: data.groups.map((g) => g.cost), backgroundColor: colours.green }] },
  options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, title: { display: true, text: 'USD' } } } } });
chart('chart-tokens', { type: 'bar', data: { labels: data.groups.map((g) => g.label), datasets: [
  { label: 'input tokens', data: data.groups.map((g) => g.input), backgroundColor: colours.blue },
  { label: 'output tokens', data: data.groups.map((g) => g.output), backgroundColor: colours.orange } ] },
  options: { indexAxis: 'y', scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } } } });
chart('chart-errors', { type: 'bar', data: { labels: data.errors.map((e) => e[0]), datasets: [{ label: 'images', data: data.errors.map((e) => e[1]), backgroundColor: colours.red }] },
  options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } } });
chart('chart-savings', { type: 'bar', data: { labels: data.savings.map((s) => s[0]), datasets: [{ label: 'USD saved', data: data.savings.map((s) => s[1]), backgroundColor: colours.green }] },
  options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: 'USD' } } } } });
`;

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0; color: #1d2433; background: #f5f6f8; }
header { background: #1d2433; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 20px; } header p { margin: 0; opacity: .75; }
main { padding: 20px 28px; max-width: 1280px; }
section { background: #fff; border-radius: 8px; padding: 16px 20px; margin-bottom: 18px; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
h2 { font-size: 16px; margin: 0 0 12px; }
dl.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin: 0; }
.tile { background: #f5f6f8; border-radius: 6px; padding: 10px 12px; }
.tile dt { font-size: 12px; color: #5b6478; } .tile dd { margin: 2px 0 0; font-size: 20px; font-weight: 600; }
.tile small { color: #5b6478; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 18px; }
.chart { position: relative; height: 260px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e6e8ee; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; } .input { font-family: ui-monospace, monospace; word-break: break-all; }
.meta { color: #5b6478; font-size: 12px; } pre { margin: 0; max-height: 160px; overflow: auto; font-size: 12px; background: #f5f6f8; padding: 6px; max-width: 520px; }
img.thumb { max-width: 96px; max-height: 96px; border: 1px solid #e6e8ee; } .nothumb { color: #8a94a6; font-size: 12px; }
.none { color: #5b6478; } table.config td:first-child { font-family: ui-monospace, monospace; color: #5b6478; width: 30%; }
`;

/** What the images/hour tile counts: pages as images, documents, and what is not in it. */
function rateNote(h: ReportFigures['headline']): string {
  const t = h.throughput;
  if (t.images === 0)
    return h.from_cache > 0 ? `no image processed · ${h.from_cache} from cache` : 'no image processed';
  const parts = [
    t.seconds
      ? `${formatCount(t.images)} processed over ${t.seconds.toFixed(1)} s`
      : 'no times in the records',
    t.documents > 0
      ? `${h.documents_per_hour === null ? '–' : formatCount(h.documents_per_hour)} documents / hour (a page counts as an image)`
      : '',
    h.from_cache > 0 ? `${h.from_cache} from cache, not counted` : '',
  ];
  return parts.filter(Boolean).join(' · ');
}

/** Bytes sent against what they were made from; a run that sent nothing says so. */
function bytesNote(h: ReportFigures['headline']): string {
  const { original, sent, original_sent: base } = h.bytes;
  if (sent === 0)
    return original === 0
      ? h.throughput.images > 0
        ? 'nothing sent to a provider'
        : 'nothing read'
      : `${formatBytes(original)} read, nothing sent${h.from_cache > 0 && h.throughput.images === 0 ? ': all from cache' : ''}`;
  const change = base > 0 ? Math.round((sent / base - 1) * 100) : 0;
  return `from ${formatBytes(base)} original (${change >= 0 ? '+' : '-'}${Math.abs(change)} %)${
    original > base ? ` · ${formatBytes(original - base)} read, not sent` : ''
  }`;
}

export function renderReport(figures: ReportFigures, context: ReportContext): string {
  const h = figures.headline;
  const s = figures.savings;
  const tiles = [
    figure(
      'images',
      'images',
      h.images,
      formatCount(h.images),
      `${h.ok} ok · ${h.empty} empty · ${h.low_confidence} low confidence · ${h.errors} errors · ${h.skipped} skipped`,
    ),
    figure(
      'success_rate',
      'success rate',
      h.success_rate ?? Number.NaN,
      h.success_rate === null ? '– (nothing attempted)' : formatPercent(h.success_rate),
    ),
    figure(
      'images_per_hour',
      'images / hour',
      h.images_per_hour ?? 0,
      h.images_per_hour === null ? '–' : formatCount(h.images_per_hour),
      rateNote(h),
    ),
    figure('p50', 'latency p50', h.latency_ms.p50, formatMs(h.latency_ms.p50)),
    figure('p95', 'latency p95', h.latency_ms.p95, formatMs(h.latency_ms.p95)),
    figure(
      'p99',
      'latency p99',
      h.latency_ms.p99,
      formatMs(h.latency_ms.p99),
      `max ${formatMs(h.latency_ms.max)}`,
    ),
    figure(
      'cost_usd',
      'cost',
      h.cost_usd,
      formatUsd(h.cost_usd),
      h.cost_unknown ? `+${h.cost_unknown} at an unknown price` : '',
    ),
    figure('cost_per_image', 'cost per image', h.cost_per_image_usd, formatUsd(h.cost_per_image_usd)),
    figure(
      'saved_usd',
      'saved vs naive plan',
      s.saved_usd,
      formatUsd(s.saved_usd),
      `naive plan ${formatUsd(s.naive_usd)}`,
    ),
    figure(
      'tokens',
      'tokens in / out',
      h.tokens.input + h.tokens.output,
      `${formatCount(h.tokens.input)} / ${formatCount(h.tokens.output)}`,
    ),
    figure(
      'cache_hits',
      'cache hits · dedup',
      h.cache.hits + h.cache.dedup + h.cache.near_dup,
      `${h.cache.hits} · ${h.cache.dedup + h.cache.near_dup}`,
      `${h.cache.misses} misses`,
    ),
    ...(h.throughput.documents > 0
      ? [
          figure(
            'documents_per_hour',
            'documents / hour',
            h.documents_per_hour ?? 0,
            h.documents_per_hour === null ? '–' : formatCount(h.documents_per_hour),
            `${formatCount(h.throughput.documents)} documents, ${formatCount(h.throughput.pages)} pages`,
          ),
        ]
      : []),
    figure('bytes_read', 'bytes read', h.bytes.original, formatBytes(h.bytes.original), 'each input once'),
    figure('bytes_sent', 'bytes sent', h.bytes.sent, formatBytes(h.bytes.sent), bytesNote(h)),
    // The run summary's rate-limit figures (runs/summary.ts): held and paced come from the run or its log.
    figure(
      'held_ms',
      'held by the rate limit',
      h.rate_limited.held_ms ?? 0,
      h.rate_limited.held_ms === null ? '–' : formatMs(h.rate_limited.held_ms),
      h.rate_limited.held_ms === null
        ? "not in the records: report --log <the run's --log-file>"
        : 'wall time with a call held',
    ),
    figure(
      'calls_waited_ms',
      'calls waited',
      h.rate_limited.wait_ms + (h.rate_limited.paced_ms ?? 0),
      formatMs(h.rate_limited.wait_ms + (h.rate_limited.paced_ms ?? 0)),
      `${formatMs(h.rate_limited.wait_ms)} after ${h.rate_limited.count} × 429 · ${
        h.rate_limited.paced_ms === null
          ? 'paced: not in the records'
          : `${formatMs(h.rate_limited.paced_ms)} paced`
      } · summed over calls`,
    ),
  ].join('');
  const hasErrors = Object.keys(figures.errorsByCode).length > 0;
  const hasCost = figures.groups.some((g) => g.cost_usd > 0);
  const hasTokens = figures.groups.some((g) => g.input_tokens + g.output_tokens > 0);
  const hasSavings = s.saved_usd > 0;
  const hasLatency = figures.histogram.counts.some((c) => c > 0);
  const chartBox = (id: string, title: string, show: boolean, empty: string) =>
    `<div><h2>${escapeHtml(title)}</h2>${show ? `<div class="chart"><canvas id="${id}" role="img" aria-label="${escapeHtml(title)}"></canvas></div>` : `<p class="none" data-empty="${id}">${escapeHtml(empty)}</p>`}</div>`;
  const charts = [
    chartBox(
      'chart-latency',
      'Latency histogram (attempted images)',
      hasLatency,
      'no provider calls in this run',
    ),
    chartBox(
      'chart-throughput',
      'Throughput over time, with errors, retries and 429s',
      figures.throughput !== null,
      'the records carry no finish times',
    ),
    chartBox('chart-cost', 'Cost by pattern, provider and model', hasCost, 'nothing was paid'),
    chartBox('chart-tokens', 'Tokens by pattern, provider and model', hasTokens, 'no tokens were used'),
    chartBox('chart-errors', 'Errors by code', hasErrors, 'no errors'),
    chartBox(
      'chart-savings',
      'Saved against the naive plan (USD)',
      hasSavings,
      'nothing saved against the naive plan',
    ),
  ].join('');
  const config = Object.entries(context.config)
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`)
    .join('');
  const failedNote =
    figures.failedTotal > figures.failed.length
      ? ` (first ${figures.failed.length} of ${figures.failedTotal})`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
${REPORT_GENERATOR}
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(context.title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(context.title)}</h1><p>${escapeHtml(context.source)} · generated ${escapeHtml(context.generatedAt.toISOString())}</p>${figures.tornLines ? `<p class="warning" data-torn-lines="${figures.tornLines}">⚠ the last line of the results file is cut short (the run stopped mid-write): it is skipped</p>` : ''}</header>
<main>
<section><h2>Headline</h2><dl class="tiles">${tiles}</dl></section>
<section class="charts">${charts}</section>
<section><h2>Slowest images</h2>${imageRows(figures.slowest, context.thumbnails)}</section>
<section><h2>Most expensive images</h2>${imageRows(figures.mostExpensive, context.thumbnails)}</section>
<section><h2>Failed images${escapeHtml(failedNote)}</h2>${imageRows(figures.failed, context.thumbnails)}</section>
<section><h2>Configuration and versions</h2><table class="config"><tbody>${config}</tbody></table></section>
</main>
<script id="report-data" type="application/json">${jsonBlock(chartData(figures))}</script>
<script>${scriptSafe(chartJs())}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
