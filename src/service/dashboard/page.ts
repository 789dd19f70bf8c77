/**
 * The dashboard page: one HTML file with Chart.js inline (no CDN). It holds no data: it
 * asks for an API key (kept in this tab's sessionStorage only), then reads
 * GET /api/dashboard with it every 2 s (the key needs `jobs:read`) and redraws.
 */
import { chartJs } from '../../report/html.js';

const SCRIPT = `
const $ = (id) => document.getElementById(id);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
const colours = { blue: '#2f6fde', red: '#d6453d', orange: '#e89b2c', grey: '#8a94a6', green: '#2e9e6b' };
const charts = {};
function draw(id, type, labels, datasets, options) {
  const box = $(id);
  const has = datasets.some((d) => d.data.some((v) => v > 0));
  box.querySelector('.none').hidden = has;
  box.querySelector('.chart').hidden = !has;
  if (!has) { if (charts[id]) { charts[id].destroy(); delete charts[id]; } return; }
  if (charts[id]) { charts[id].data.labels = labels; charts[id].data.datasets = datasets; charts[id].update(); return; }
  charts[id] = new Chart(box.querySelector('canvas'), { type, data: { labels, datasets }, options: options || {} });
}
function figure(name, value, text) { const el = document.querySelector('[data-figure="' + name + '"]'); el.dataset.value = value; el.textContent = text; }
const pct = (x) => (x * 100).toFixed(1) + ' %';
const ms = (x) => x >= 10000 ? (x / 1000).toFixed(1) + ' s' : Math.round(x).toLocaleString('en-US') + ' ms';
const usd = (x) => x >= 1 ? '$' + x.toFixed(2) : '$' + x.toFixed(4);
function render(d) {
  const t = d.today;
  figure('jobs', t.succeeded + t.failed, (t.succeeded + t.failed).toLocaleString('en-US'));
  figure('success_rate', t.success_rate, pct(t.success_rate));
  figure('cost_usd', t.cost_usd, usd(t.cost_usd));
  figure('p50', t.latency_ms.p50, ms(t.latency_ms.p50));
  figure('p95', t.latency_ms.p95, ms(t.latency_ms.p95));
  figure('p99', t.latency_ms.p99, ms(t.latency_ms.p99));
  const depth = (d.queue.waiting || 0) + (d.queue.active || 0) + (d.queue.delayed || 0);
  figure('queue_depth', depth, depth.toLocaleString('en-US'));
  const w = d.webhooks; const attempted = w.delivered + w.failed + w.disabled;
  figure('webhooks_ok', attempted ? w.delivered / attempted : 1, attempted ? pct(w.delivered / attempted) : 'no deliveries');
  draw('throughput', 'bar', d.throughput.map((m) => m.minute.slice(11, 16)), [
    { label: 'succeeded', data: d.throughput.map((m) => m.succeeded), backgroundColor: colours.blue },
    { label: 'failed', data: d.throughput.map((m) => m.failed), backgroundColor: colours.red } ],
    { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'jobs per minute' } } } });
  draw('latency', 'bar', ['p50', 'p95', 'p99'], [{ label: 'ms', data: [t.latency_ms.p50, t.latency_ms.p95, t.latency_ms.p99], backgroundColor: colours.orange }],
    { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: 'ms' } } } });
  const states = ['waiting', 'active', 'delayed', 'completed', 'failed'];
  draw('queue', 'bar', states, [{ label: 'jobs', data: states.map((s) => d.queue[s] || 0), backgroundColor: colours.grey }],
    { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } });
  draw('webhooks', 'bar', Object.keys(w), [{ label: 'deliveries today', data: Object.values(w), backgroundColor: colours.green }],
    { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } });
  const rows = d.recent_failures.map((f) => '<tr data-job="' + f.id + '"><td>' + (f.completed_at || '').replace('T', ' ').slice(0, 19) + '</td><td>' + esc(f.error_code || '') + '</td><td>' + esc(f.error || '') + '</td></tr>');
  $('failures').innerHTML = rows.join('') || '<tr><td colspan="3" class="none">none</td></tr>';
  $('updated').textContent = 'updated ' + d.at.replace('T', ' ').slice(0, 19) + ' UTC';
  document.body.dataset.state = 'live';
}
function esc(s) { return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]); }
async function poll() {
  const key = sessionStorage.getItem('visionpipe-key');
  if (!key) { document.body.dataset.state = 'locked'; return; }
  try {
    const response = await fetch('/api/dashboard', { headers: { authorization: 'Bearer ' + key } });
    const body = await response.json();
    if (!response.ok) { document.body.dataset.state = 'denied'; $('message').textContent = body.error ? body.error.message : 'HTTP ' + response.status; return; }
    $('message').textContent = '';
    render(body.data);
  } catch (error) { $('message').textContent = 'cannot reach the service: ' + error.message; }
  setTimeout(poll, 2000);
}
$('unlock').addEventListener('submit', (event) => { event.preventDefault(); sessionStorage.setItem('visionpipe-key', $('key').value.trim()); $('key').value = ''; poll(); });
poll();
`;

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d2433; background: #f5f6f8; }
header { background: #1d2433; color: #fff; padding: 14px 28px; display: flex; gap: 24px; align-items: baseline; }
header h1 { margin: 0; font-size: 19px; } header span { opacity: .75; }
main { padding: 18px 28px; max-width: 1280px; }
section { background: #fff; border-radius: 8px; padding: 14px 18px; margin-bottom: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
h2 { font-size: 15px; margin: 0 0 10px; }
dl { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; margin: 0; }
dl div { background: #f5f6f8; border-radius: 6px; padding: 8px 12px; } dt { font-size: 12px; color: #5b6478; } dd { margin: 2px 0 0; font-size: 20px; font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
.chart { position: relative; height: 220px; } .none { color: #5b6478; }
table { border-collapse: collapse; width: 100%; } td { padding: 5px 8px; border-bottom: 1px solid #e6e8ee; vertical-align: top; }
#message { color: #d6453d; } body[data-state="locked"] main, body[data-state="denied"] main { display: none; }
form { display: inline-flex; gap: 6px; } input { width: 320px; }
`;

export function dashboardPage(): string {
  const box = (id: string, title: string, empty: string) =>
    `<div id="${id}"><h2>${title}</h2><div class="chart" hidden><canvas id="chart-${id}" aria-label="${title}"></canvas></div><p class="none">${empty}</p></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>visionpipe dashboard</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<style>${STYLE}</style></head>
<body data-state="locked">
<header><h1>visionpipe</h1><span id="updated"></span>
<form id="unlock"><input id="key" type="password" autocomplete="off" placeholder="API key with jobs:read"><button type="submit">Show</button></form>
<span id="message"></span></header>
<main>
<section><h2>Today</h2><dl>
<div><dt>jobs finished</dt><dd data-figure="jobs">–</dd></div>
<div><dt>success rate</dt><dd data-figure="success_rate">–</dd></div>
<div><dt>latency p50</dt><dd data-figure="p50">–</dd></div>
<div><dt>latency p95</dt><dd data-figure="p95">–</dd></div>
<div><dt>latency p99</dt><dd data-figure="p99">–</dd></div>
<div><dt>cost today</dt><dd data-figure="cost_usd">–</dd></div>
<div><dt>queue depth</dt><dd data-figure="queue_depth">–</dd></div>
<div><dt>webhooks delivered</dt><dd data-figure="webhooks_ok">–</dd></div>
</dl></section>
<section class="grid">
${box('throughput', 'Throughput (last 30 minutes)', 'nothing finished in the last 30 minutes')}
${box('latency', 'Latency percentiles today', 'no finished jobs today')}
${box('queue', 'Queue', 'the queue is empty')}
${box('webhooks', 'Webhook deliveries today', 'no webhook deliveries today')}
</section>
<section><h2>Recent failures</h2><table><tbody id="failures"></tbody></table></section>
</main>
<script>${chartJs().replace(/<\/(script)/gi, '<\\/$1')}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
