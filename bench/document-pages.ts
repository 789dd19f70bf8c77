/**
 * A document's pages against provider latency, in one run: the same 12 pages sent as a
 * 12-page PDF (`--pages each`; `--pages document`, one request, for reference) and as 12
 * JPEG files, each through a real `visionpipe run`
 * process at `--concurrency 8` against the provider simulator answering every call after
 * a fixed latency (1 s by default). The JPEGs are the baseline: a PDF's pages should go
 * out side by side as the images do, not one at a time.
 *
 * The pages are generated text pages (synthetic); the JPEG files are the very page images
 * visionpipe renders from the PDF, so both send the same pixels.
 *
 *   npm run bench:document-pages [-- --latency-ms 1000 --pages 12]
 *
 * Writes its rows under `pages_against_latency` in bench/results/documents.json, keeping
 * the rows of bench/documents.ts (which carry their own date and commit).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDocument } from '../src/documents/document.js';
import { resolvePreprocessOptions } from '../src/image/options.js';
import { startSimulator } from '../src/simulator/index.js';
import { makePdf, numberedPages } from '../test/support/documents.js';
import { currentCommit } from './provenance.js';
import { BENCH_DIR, CACHE_DIR, fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    'latency-ms': { type: 'string', default: '1000' },
    pages: { type: 'string', default: '12' },
    concurrency: { type: 'string', default: '8' },
  },
});
const LATENCY = Number(args['latency-ms']);
const PAGES = Number(args.pages);
const CONCURRENCY = Number(args.concurrency);
const ROOT = path.resolve(BENCH_DIR, '..');
const BIN = path.join(ROOT, 'bin/visionpipe.cjs');
const DIR = path.join(CACHE_DIR, 'document-pages');
const PATTERN = path.join(ROOT, 'samples/patterns/invoice.json');

function run(argv: string[]): Promise<{ ms: number; code: number | null; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', OPENAI_API_KEY: 'sk-bench-document-pages' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stderr }));
  });
}

async function main(): Promise<void> {
  await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true });
  const pdfBytes = await makePdf(numberedPages(PAGES, 12));
  const pdf = path.join(DIR, `pages-${PAGES}.pdf`);
  await writeFile(pdf, pdfBytes);
  // The same pages as JPEG files: what visionpipe renders from the PDF for this model.
  const preprocess = resolvePreprocessOptions({ profile: 'openai-high' });
  const doc = await openDocument(pdfBytes, pdf, { limits: preprocess.limits, maxPages: PAGES });
  const jpegs: string[] = [];
  for await (const page of doc) {
    const file = path.join(DIR, `page-${String(page.page).padStart(3, '0')}.jpg`);
    await writeFile(file, page.data);
    jpegs.push(file);
  }
  doc.close();

  const sim = await startSimulator({ answer: 'empty', latency: { minMs: LATENCY, maxMs: LATENCY } });
  const common = (out: string) => [
    '--pattern',
    PATTERN,
    '--provider',
    'openai',
    '--model',
    'gpt-4o-mini',
    '--base-url',
    sim.baseUrls.openai,
    '--cache',
    'off',
    '--concurrency',
    String(CONCURRENCY),
    '--out',
    path.join(DIR, out),
    '--state-dir',
    path.join(DIR, `${out}.state`),
    '--fresh',
  ];
  const cases: Array<{ name: string; argv: string[] }> = [
    { name: `${PAGES} JPEG files (baseline)`, argv: ['run', ...jpegs, ...common('jpegs.jsonl')] },
    {
      name: `${PAGES}-page PDF, --pages each`,
      argv: ['run', pdf, ...common('each.jsonl'), '--pages', 'each'],
    },
    {
      name: `${PAGES}-page PDF, --pages document (pages together, one request)`,
      argv: ['run', pdf, ...common('document.jsonl'), '--pages', 'document'],
    },
  ];
  const rows: Array<{ case: string; calls: number; wall_s: number; vs_jpegs: number }> = [];
  try {
    let baseline = 0;
    for (const one of cases) {
      const before = sim.stats.total;
      const result = await run(one.argv);
      if (result.code !== 0) throw new Error(`${one.name}: exit ${result.code}\n${result.stderr}`);
      if (baseline === 0) baseline = result.ms;
      rows.push({
        case: one.name,
        calls: sim.stats.total - before,
        wall_s: Number(fmt(result.ms / 1000)),
        vs_jpegs: Number(fmt(result.ms / baseline)),
      });
    }
  } finally {
    await sim.close();
  }
  printTable(
    `${PAGES} pages at ${LATENCY} ms latency, --concurrency ${CONCURRENCY} (synthetic text pages; process wall time incl. start-up)`,
    ['case', 'calls', 'wall s', 'vs JPEGs'],
    rows.map((r) => [r.case, r.calls, fmt(r.wall_s), fmt(r.vs_jpegs)]),
  );
  const file = path.join(BENCH_DIR, 'results', 'documents.json');
  const earlier = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
  const { name: _n, date, commit, dirty, machine: _m, ...kept } = earlier;
  await writeResults('documents', {
    ...kept,
    // bench/documents.ts's rows were measured then; this section now.
    renderer_rows_measured: kept.renderer_rows_measured ?? { date, commit, dirty },
    pages_against_latency: {
      date: new Date().toISOString(),
      ...currentCommit(),
      latency_ms: LATENCY,
      // A shared machine: the 1-minute load average when the runs ended (2 cores).
      load_average: Number(fmt(os.loadavg()[0] ?? 0)),
      concurrency: CONCURRENCY,
      pages: PAGES,
      documents: 'generated text pages (synthetic); the JPEGs are the PDF pages as visionpipe renders them',
      rows,
    },
  });
}

await main();
