/**
 * The local engine, measured three ways in one run:
 *
 * 1. throughput at 1 and 2 OCR workers on the synthetic samples, counting only images
 *    that were really read (a duplicate served from the first copy's result is not OCR);
 * 2. field accuracy on real scans and photos (bench/corpus/truth.jsonl: invoices, VIN
 *    plates, car plates, resumes, prescriptions of the shared corpus, labelled by hand)
 *    beside the synthetic samples' figure (samples/truth.jsonl), for every OCR engine
 *    available: tesseract.js always, PaddleOCR when its packages are installed
 *    (bench/paddle-ocr.ts says how), with the time each engine took;
 * 3. field accuracy on the synthetic samples when images are sent at 256 … 2048 px.
 *
 *   npm run bench:local-engine [-- --sizes 256,512,768,1024,1568,2048] [--engines tesseract,paddle]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalProvider } from '../src/providers/local.js';
import { groups, ocrCount, ROOT, runGroups, type Score, score } from './local-engine-score.js';
import { PaddleOcr, paddleAvailable } from './paddle-ocr.js';
import { fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512,768,1024,1568,2048' },
    engines: { type: 'string', default: 'tesseract,paddle' },
  },
});
const SIZES = args.sizes === '' ? [] : args.sizes.split(',').map(Number);
const CORPUS_TRUTH = path.join(ROOT, 'bench/corpus/truth.jsonl');
const SAMPLES_TRUTH = path.join(ROOT, 'samples/truth.jsonl');
const CORPUS_DIR =
  process.env.VISIONPIPE_CORPUS_DIR ?? path.resolve(ROOT, '../../shared/corpus/imggo-test-images');

function makeProvider(engine: string, workers: number): LocalProvider {
  return engine === 'paddle' ? new LocalProvider({ ocr: new PaddleOcr() }) : new LocalProvider({ workers });
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty === '' ? sha : `${sha}+dirty`;
  } catch {
    return 'unknown';
  }
}

async function main() {
  // The code that runs is the code at the start: later edits to the tree do not change it.
  const ranCommit = commit();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visionpipe-bench-local-'));
  const samples = (await groups(SAMPLES_TRUTH, ROOT, false)).filter((g) =>
    ['invoice', 'receipt'].includes(g.name),
  );
  const corpus = await groups(CORPUS_TRUTH, CORPUS_DIR, true);

  // 1. Throughput on the samples.
  const throughput: Array<{ workers: number; images_read: number; images_per_min: number; wall_s: number }> =
    [];
  for (const workers of [1, 2]) {
    const provider = new LocalProvider({ workers });
    await runGroups([{ ...samples[0]!, items: samples[0]!.items.slice(0, 1) }], provider, undefined, workers); // start the workers
    const { records, wallS } = await runGroups(samples, provider, undefined, workers);
    const read = ocrCount(records);
    throughput.push({ workers, images_read: read, images_per_min: (read / wallS) * 60, wall_s: wallS });
    await provider.close();
  }
  const sampleInputs = samples.reduce((n, g) => n + g.items.length, 0);
  printTable(
    `Local engine throughput (${sampleInputs} sample inputs, ${throughput[0]!.images_read} read by OCR; duplicates reuse a result and are not counted; max2048, workers warm)`,
    ['workers', 'images read', 'images/min', 'wall s'],
    throughput.map((t) => [t.workers, t.images_read, fmt(t.images_per_min, 1), fmt(t.wall_s, 1)]),
  );

  // 2. Accuracy on real documents beside the synthetic samples, per OCR engine.
  const engines = args.engines.split(',').filter((e) => e === 'tesseract' || e === 'paddle');
  const comparison: Array<Record<string, unknown>> = [];
  for (const engine of engines) {
    if (engine === 'paddle' && !(await paddleAvailable())) {
      console.log('\nPaddleOCR is not installed: skipped (see bench/paddle-ocr.ts to install it).');
      continue;
    }
    const provider = makeProvider(engine, 2);
    await runGroups([{ ...corpus[0]!, items: corpus[0]!.items.slice(0, 1) }], provider, undefined, 2); // warm up
    const real = await runGroups(corpus, provider, undefined, 2);
    const synthetic = await runGroups(samples, provider, undefined, 2);
    await provider.close();
    const realScore = await score(corpus, real.records, dir);
    const syntheticScore = await score(samples, synthetic.records, dir);
    comparison.push({
      engine,
      model: provider.defaultModel,
      corpus: {
        ...realScore.overall,
        images: ocrCount(real.records),
        wall_s: real.wallS,
        s_per_image: real.wallS / ocrCount(real.records),
        by_pattern: realScore.byGroup,
      },
      synthetic: {
        ...syntheticScore.overall,
        images: ocrCount(synthetic.records),
        wall_s: synthetic.wallS,
        s_per_image: synthetic.wallS / ocrCount(synthetic.records),
      },
    });
  }
  const pct = (s: { accuracy: number }) => `${fmt(s.accuracy * 100, 1)} %`;
  type Side = Score & { images: number; s_per_image: number; by_pattern?: Record<string, Score> };
  printTable(
    'Field accuracy: real scans and photos (bench/corpus) vs synthetic samples, per OCR engine (2 cores)',
    ['engine', 'real docs', 'fields', 'wrong', 's/image', 'synthetic', 'fields', 'wrong', 's/image'],
    comparison.map((c) => {
      const real = c.corpus as Side;
      const synthetic = c.synthetic as Side;
      return [
        String(c.engine),
        pct(real),
        `${real.correct}/${real.total}`,
        real.wrong,
        fmt(real.s_per_image, 2),
        pct(synthetic),
        `${synthetic.correct}/${synthetic.total}`,
        synthetic.wrong,
        fmt(synthetic.s_per_image, 2),
      ];
    }),
  );
  const kinds = corpus.map((g) => g.name);
  printTable(
    'Real documents by pattern (field accuracy)',
    ['pattern', 'documents', ...comparison.map((c) => String(c.engine))],
    kinds.map((name) => [
      name,
      corpus.find((g) => g.name === name)!.items.length,
      ...comparison.map((c) => {
        const s = (c.corpus as Side).by_pattern?.[name];
        return s ? `${pct(s)} (${s.correct}/${s.total}, ${s.wrong} wrong)` : '-';
      }),
    ]),
  );

  // 3. Accuracy vs resolution on the samples (tesseract).
  const byResolution: Array<{ long_edge: number; accuracy: number; bytes_sent: number; wall_s: number }> = [];
  if (SIZES.length > 0) {
    const provider = new LocalProvider({ workers: 2 });
    for (const size of SIZES) {
      const { records, wallS } = await runGroups(samples, provider, { maxLongEdge: size }, 2);
      byResolution.push({
        long_edge: size,
        accuracy: (await score(samples, records, dir)).overall.accuracy,
        bytes_sent: [...records.values()].flat().reduce((sum, r) => sum + (r.image?.bytes ?? 0), 0),
        wall_s: wallS,
      });
    }
    await provider.close();
    printTable(
      'Field accuracy vs resolution sent (local engine, samples/truth.jsonl)',
      ['long edge px', 'accuracy', 'bytes sent', 'wall s'],
      byResolution.map((r) => [r.long_edge, `${fmt(r.accuracy * 100, 1)} %`, r.bytes_sent, fmt(r.wall_s, 1)]),
    );
  }
  await rm(dir, { recursive: true, force: true });

  const file = await writeResults('local-engine', {
    commit: ranCommit,
    sample_inputs: sampleInputs,
    throughput,
    accuracy_by_engine: comparison,
    accuracy_by_long_edge: byResolution,
  });
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

await main();
