/**
 * The local engine: throughput at 1 and 2 OCR workers, and field accuracy against ground
 * truth when images are sent at 256 … 2048 px long edge — the first measurement of the
 * guides' "reduce resolution without losing accuracy" claim.
 *
 *   npm run bench:local-engine [-- --sizes 256,512,768,1024,1568,2048]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openCache } from '../src/cache/open-cache.js';
import { loadPattern } from '../src/patterns/index.js';
import { createPipeline } from '../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../src/pipeline/record.js';
import { LocalProvider } from '../src/providers/local.js';
import { evaluate } from '../src/runs/evaluate.js';
import type { InputItem } from '../src/runs/inputs.js';
import { fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: { sizes: { type: 'string', default: '256,512,768,1024,1568,2048' } },
});
const SIZES = args.sizes.split(',').map(Number);
const ROOT = path.resolve(import.meta.dirname, '..');

interface TruthLine {
  input: string;
  pattern: string | null;
}

async function documents(): Promise<Record<'invoice' | 'receipt', InputItem[]>> {
  const lines = (await readFile(path.join(ROOT, 'samples/truth.jsonl'), 'utf8')).trim().split('\n');
  const groups: Record<'invoice' | 'receipt', InputItem[]> = { invoice: [], receipt: [] };
  for (const line of lines) {
    const truth = JSON.parse(line) as TruthLine;
    if (truth.pattern !== 'invoice' && truth.pattern !== 'receipt') continue;
    groups[truth.pattern].push({
      kind: 'file',
      label: truth.input,
      path: path.join(ROOT, truth.input),
      rel: truth.input,
    });
  }
  return groups;
}

/** Runs both patterns over their documents; returns records and wall time. */
async function runAll(
  groups: Record<'invoice' | 'receipt', InputItem[]>,
  provider: LocalProvider,
  profile: { maxLongEdge: number } | undefined,
  concurrency: number,
): Promise<{ records: RunRecord[]; wallS: number }> {
  const records: RunRecord[] = [];
  const started = performance.now();
  for (const kind of ['invoice', 'receipt'] as const) {
    const pattern = await loadPattern(
      path.join(ROOT, `samples/patterns/${kind === 'invoice' ? 'invoice.json' : 'receipt.yaml'}`),
    );
    // A fresh in-memory cache per run: every image is really read, no hits across runs.
    const cache = await openCache({ spec: 'off' });
    const pipeline = await createPipeline({ pattern, provider, cache, ...(profile ? { profile } : {}) });
    for await (const record of pipeline.run(groups[kind], { concurrency })) records.push(record);
    await pipeline.close();
    await cache.close();
  }
  return { records, wallS: (performance.now() - started) / 1000 };
}

async function accuracy(records: RunRecord[], dir: string): Promise<number> {
  const file = path.join(dir, `results-${Math.random().toString(36).slice(2)}.jsonl`);
  await writeFile(file, records.map((r) => JSON.stringify(r)).join('\n'));
  return (await evaluate(path.join(ROOT, 'samples/truth.jsonl'), file)).overall.accuracy;
}

async function main() {
  const groups = await documents();
  const images = groups.invoice.length + groups.receipt.length;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visionpipe-bench-local-'));

  const throughput: Array<{ workers: number; images_per_min: number; wall_s: number }> = [];
  for (const workers of [1, 2]) {
    const provider = new LocalProvider({ workers });
    await runAll({ invoice: groups.invoice.slice(0, 1), receipt: [] }, provider, undefined, workers); // start the workers
    const { wallS } = await runAll(groups, provider, undefined, workers);
    throughput.push({ workers, images_per_min: (images / wallS) * 60, wall_s: wallS });
    await provider.close();
  }
  printTable(
    `Local engine throughput (${images} sample documents at max2048, OCR workers warm)`,
    ['workers', 'images/min', 'wall s'],
    throughput.map((t) => [t.workers, fmt(t.images_per_min, 1), fmt(t.wall_s, 1)]),
  );

  const provider = new LocalProvider({ workers: 2 });
  const byResolution: Array<{ long_edge: number; accuracy: number; bytes_sent: number; wall_s: number }> = [];
  for (const size of SIZES) {
    const { records, wallS } = await runAll(groups, provider, { maxLongEdge: size }, 2);
    byResolution.push({
      long_edge: size,
      accuracy: await accuracy(records, dir),
      bytes_sent: records.reduce((sum, r) => sum + (r.image?.bytes ?? 0), 0),
      wall_s: wallS,
    });
  }
  await provider.close();
  printTable(
    'Field accuracy vs resolution sent (local engine, samples/truth.jsonl)',
    ['long edge px', 'accuracy', 'bytes sent', 'wall s'],
    byResolution.map((r) => [r.long_edge, `${fmt(r.accuracy * 100, 1)} %`, r.bytes_sent, fmt(r.wall_s, 1)]),
  );
  await rm(dir, { recursive: true, force: true });

  const file = await writeResults('local-engine', {
    images,
    throughput,
    accuracy_by_long_edge: byResolution,
  });
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

await main();
