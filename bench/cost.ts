/**
 * The reference cost workload, re-runnable by anyone: ≥ 1000 generated images (12 MP
 * phone photos of receipts and invoices, ~30 % exact duplicates, ~10 % near-duplicates,
 * ~40 % irrelevant photos), run through the simulator speaking the OpenAI wire format
 * (answers from the local engine on the pixels the model would see; tokens by the real
 * formulas), three ways in one run:
 *
 *   naive       every image, full resolution, no cache, no deduplication, no triage
 *   defaults    visionpipe as installed: sized per provider, cached, exact duplicates once
 *   optimized   defaults + local triage + a budget of 1 300
 *               image tokens (≈ 1024 px on the long edge, where bench:local-engine
 *               measures no loss of accuracy) + the batch API
 *
 * and scored against the ground truth: billed tokens, cost, field accuracy, triage
 * precision/recall. Accuracy is counted the same way for all three: an output that does
 * not conform to the pattern's schema is an error (visionpipe never passes one on, so the
 * naive variant is held to the same rule rather than credited for half-filled outputs).
 *
 * Near-duplicate reuse is not in the optimized variant: on this workload a 64-bit dHash
 * cannot tell two receipts photographed the same way apart (different documents 2 bits
 * apart), so `--near-dup` would hand one receipt's fields to another.
 *
 *   npm run bench:cost [-- --count 1000 --model gpt-4.1-mini] [-- --reuse naive,defaults]
 *
 * --reuse takes the named variants' scores from the last run on the same workload and
 * model (each variant takes 15–20 minutes on two cores) and marks them as reused. Every
 * row records its provenance (commit, clean tree, time, scoring-code digest); --reuse
 * refuses a row measured with another commit, uncommitted changes or other scoring code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { openCache } from '../src/cache/open-cache.js';
import { sha256 } from '../src/image/fingerprint.js';
import { describeImage } from '../src/image/preprocess.js';
import { requireSupportedFormat } from '../src/image/sniff.js';
import { loadPattern } from '../src/patterns/index.js';
import { validateOutput } from '../src/patterns/validate.js';
import { createBatchBackend } from '../src/providers/batch/index.js';
import { LocalProvider } from '../src/providers/local.js';
import { OpenAIProvider } from '../src/providers/openai.js';
import { costUsd } from '../src/providers/pricing.js';
import { runWithBatchApi } from '../src/runs/batch-api-run.js';
import { evaluate } from '../src/runs/evaluate.js';
import { expandInputs } from '../src/runs/inputs.js';
import { PipelineSet } from '../src/runs/pipeline-set.js';
import { loadRouter } from '../src/runs/routes.js';
import { runBatch } from '../src/runs/run.js';
import { startSimulator } from '../src/simulator/index.js';
import type { PipelineRecord } from './cost-types.js';
import { type Provenance, provenance, reuseRefusal } from './provenance.js';
import { CACHE_DIR, fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    model: { type: 'string', default: 'gpt-4.1-mini' },
    concurrency: { type: 'string', default: '8' },
    reuse: { type: 'string', default: '' },
  },
});
const COUNT = Number(args.count);
const MODEL = args.model;
const ROOT = path.resolve(import.meta.dirname, '..');
const WORKLOAD = path.join(CACHE_DIR, `workload-${COUNT}`);
const RESULTS = path.join(CACHE_DIR, `cost-results-${COUNT}`);
/**
 * The optimized variant's per-image budget: gpt-4.1-class models bill 32-px patches, so a
 * 12 MP photo costs ~2 350 image tokens at the size the API keeps and ~1 240 at 1024 px,
 * the smallest long edge bench:local-engine reads without losing a field.
 */
const MAX_IMAGE_TOKENS = 1300;

async function ensureWorkload(): Promise<void> {
  // The truth file is written as images land: only a complete one means a finished workload.
  const truthFile = path.join(WORKLOAD, 'truth.jsonl');
  if (existsSync(truthFile)) {
    const lines = (await readFile(truthFile, 'utf8')).split('\n').filter(Boolean).length;
    if (lines === COUNT) return;
  }
  console.log(`generating the ${COUNT}-image workload into ${path.relative(ROOT, WORKLOAD)} (once)…`);
  const documents = Math.round(COUNT * 0.2);
  const generated = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'samples/scripts/generate.ts'),
      '--out',
      WORKLOAD,
      '--count',
      String(COUNT),
      '--dup',
      '0.3',
      '--near',
      '0.1',
      '--irrelevant',
      '0.4',
      '--photos-12mp',
      String(documents),
      '--rotated',
      '0',
      '--alpha',
      '0',
      '--quiet',
    ],
    { stdio: 'inherit', cwd: ROOT },
  );
  if (generated.status !== 0) throw new Error('workload generation failed');
}

async function routesFile(): Promise<string> {
  const file = path.join(RESULTS, 'routes.yaml');
  await writeFile(
    file,
    `routes:\n  - when: { path: "**/receipt-*" }\n    use: { pattern: ${path.join(ROOT, 'samples/patterns/receipt.yaml')} }\n  - when: { path: "**/invoice-*" }\n    use: { pattern: ${path.join(ROOT, 'samples/patterns/invoice.json')} }\n`,
  );
  return file;
}

interface Variant {
  name: string;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  tokens: number;
  cost_usd: number;
  accuracy: number;
  triage_precision: number | null;
  triage_recall: number | null;
  wall_s: number;
  /** The commit, time and scoring code this row was measured with. */
  measured: Provenance;
  /** True when the row comes from an earlier run of the same commit (--reuse). */
  reused: boolean;
}

/** The code that turns a run's records into a row's figures. */
const SCORING_FILES = ['bench/cost.ts', 'src/runs/evaluate.ts', 'src/patterns/validate.ts'];

async function score(
  name: string,
  records: PipelineRecord[],
  stats: {
    tokens: { input: number; output: number };
    batchTokens: { input: number; output: number };
    batchRequests: number;
    requests: Record<string, number>;
  },
  wallS: number,
): Promise<Variant> {
  const file = path.join(RESULTS, `${name}.jsonl`);
  await writeFile(file, records.map((r) => JSON.stringify(r)).join('\n'));
  const evaluation = await evaluate(path.join(WORKLOAD, 'truth.jsonl'), file);
  // Synchronous calls at the list price, batch requests at the batch price.
  const input = stats.tokens.input + stats.batchTokens.input;
  const output = stats.tokens.output + stats.batchTokens.output;
  const calls =
    Object.entries(stats.requests)
      .filter(([route]) => route.includes('chat/completions'))
      .reduce((sum, [, n]) => sum + n, 0) + stats.batchRequests;
  const priced = (tokens: { input: number; output: number }, batch: boolean) =>
    costUsd(
      'openai',
      MODEL,
      { input_tokens: tokens.input, output_tokens: tokens.output, image_tokens: 0, estimated: false },
      { batch },
    ) ?? 0;
  const cost = priced(stats.tokens, false) + priced(stats.batchTokens, true);
  const variant: Variant = {
    name,
    calls,
    input_tokens: input,
    output_tokens: output,
    tokens: input + output,
    cost_usd: cost,
    accuracy: evaluation.overall.accuracy,
    triage_precision: evaluation.triage.skipped > 0 ? evaluation.triage.precision : null,
    triage_recall: evaluation.triage.irrelevant > 0 ? evaluation.triage.recall : null,
    wall_s: wallS,
    measured: provenance(SCORING_FILES),
    reused: false,
  };
  await writeFile(path.join(RESULTS, `${name}.score.json`), JSON.stringify({ ...variant, model: MODEL }));
  return variant;
}

/** The naive way: every file, as it is, one call each, ten at a time. */
async function naive(
  baseUrl: string,
  invoice: Awaited<ReturnType<typeof loadPattern>>,
  receipt: typeof invoice,
): Promise<PipelineRecord[]> {
  const provider = new OpenAIProvider({ apiKey: 'sim', baseUrl });
  const files = (await readdir(path.join(WORKLOAD, 'images'))).sort();
  const limit = pLimit(10);
  const records = await Promise.all(
    files.map((name) =>
      limit(async (): Promise<PipelineRecord> => {
        const file = path.join(WORKLOAD, 'images', name);
        const input = path.relative(process.cwd(), file);
        const bytes = await readFile(file);
        const pattern = name.startsWith('receipt-') ? receipt : invoice;
        try {
          const format = requireSupportedFormat(bytes, name);
          const { description } = await describeImage(bytes, name, { limitInputPixels: 100_000_000 });
          const image = {
            data: bytes,
            format: format === 'png' ? ('png' as const) : ('jpeg' as const),
            width: description.width,
            height: description.height,
            sha256: sha256(bytes),
          };
          const result = await provider.extract(
            { image, pattern, model: MODEL },
            AbortSignal.timeout(300_000),
          );
          if (validateOutput(pattern, result.output).length > 0)
            return { input, sha256: image.sha256, status: 'error', output: null };
          return { input, sha256: image.sha256, status: 'ok', output: result.output };
        } catch {
          return { input, sha256: sha256(bytes), status: 'error', output: null };
        }
      }),
    ),
  );
  await provider.close();
  return records;
}

async function main() {
  await ensureWorkload();
  const reuse = new Set(args.reuse.split(',').filter(Boolean));
  if (reuse.size === 0) await rm(RESULTS, { recursive: true, force: true });
  await mkdir(RESULTS, { recursive: true });
  const reused = async (name: string): Promise<Variant | undefined> => {
    if (!reuse.has(name)) return undefined;
    const saved = JSON.parse(await readFile(path.join(RESULTS, `${name}.score.json`), 'utf8')) as Variant & {
      model: string;
    };
    if (saved.model !== MODEL) throw new Error(`--reuse ${name}: saved for ${saved.model}, not ${MODEL}`);
    const refusal = reuseRefusal(saved.measured, provenance(SCORING_FILES));
    if (refusal) throw new Error(`--reuse ${name}: refused, ${refusal}; run it again without --reuse`);
    const { model: _model, ...variant } = saved;
    console.log(`${name}: reused, measured at ${variant.measured.measured_at} with this commit`);
    return { ...variant, reused: true };
  };
  const invoice = await loadPattern(path.join(ROOT, 'samples/patterns/invoice.json'));
  const receipt = await loadPattern(path.join(ROOT, 'samples/patterns/receipt.yaml'));
  const routes = await routesFile();
  const concurrency = Number(args.concurrency);
  const variants: Variant[] = [];

  const simulatorOptions = { answer: 'local' as const, latency: { minMs: 20, maxMs: 60 }, localWorkers: 2 };
  const naiveReused = await reused('naive');
  if (naiveReused) variants.push(naiveReused);
  else {
    const simulator = await startSimulator(simulatorOptions);
    const started = performance.now();
    const records = await naive(simulator.baseUrls.openai, invoice, receipt);
    variants.push(await score('naive', records, simulator.stats, (performance.now() - started) / 1000));
    await simulator.close();
    console.log('naive: done');
  }

  for (const optimized of [false, true]) {
    const earlier = await reused(optimized ? 'optimized' : 'defaults');
    if (earlier) {
      variants.push(earlier);
      continue;
    }
    const simulator = await startSimulator(simulatorOptions);
    const started = performance.now();
    const cache = await openCache({ spec: 'memory' });
    const defaults = { pattern: invoice, provider: 'openai', model: MODEL, profile: undefined };
    const local = new LocalProvider({ workers: 2 });
    const pipelines = new PipelineSet({
      defaults,
      router: await loadRouter(routes, defaults),
      providers: [local],
      providerOptions: { openai: { apiKey: 'sim', baseUrl: simulator.baseUrls.openai } },
      cache,
      warn: () => {},
      sourceLimits: {},
      timeoutMs: 300_000,
      ...(optimized ? { triage: { provider: 'local' }, maxImageTokens: MAX_IMAGE_TOKENS } : {}),
    });
    const records: PipelineRecord[] = [];
    const items = expandInputs([path.join(WORKLOAD, 'images')]);
    if (optimized) {
      const backend = createBatchBackend('openai', {
        openai: { apiKey: 'sim', baseUrl: simulator.baseUrls.openai },
      });
      await runWithBatchApi(items, {
        backend,
        pipelineFor: (item) => pipelines.pipelineFor(item),
        stateDir: path.join(RESULTS, 'state'),
        jobKey: `bench-cost-${Date.now()}`,
        concurrency,
        pollIntervalMs: 200,
        onResult: ({ record }) => {
          records.push(record);
        },
      });
      await backend.close();
    } else {
      for await (const { record } of runBatch(items, (item) => pipelines.pipelineFor(item), { concurrency }))
        records.push(record);
    }
    await pipelines.close();
    await cache.close();
    variants.push(
      await score(
        optimized ? 'optimized' : 'defaults',
        records,
        simulator.stats,
        (performance.now() - started) / 1000,
      ),
    );
    await simulator.close();
    console.log(`${optimized ? 'optimized' : 'defaults'}: done`);
  }

  const naiveRow = variants[0]!;
  printTable(
    `${COUNT} images (12 MP photos of receipts and invoices, 30 % duplicates, 10 % near-duplicates, 40 % irrelevant), OpenAI ${MODEL} format via the simulator`,
    ['variant', 'calls', 'billed tokens', 'cost USD', 'cost ×', 'field accuracy', 'triage P / R', 'wall s'],
    variants.map((v) => [
      v.reused ? `${v.name} (reused)` : v.name,
      v.calls,
      v.tokens,
      fmt(v.cost_usd, 4),
      fmt(naiveRow.cost_usd / v.cost_usd, 1),
      `${fmt(v.accuracy * 100, 1)} %`,
      v.triage_precision === null
        ? '—'
        : `${fmt(v.triage_precision * 100, 1)} % / ${fmt((v.triage_recall ?? 0) * 100, 1)} %`,
      fmt(v.wall_s, 0),
    ]),
  );
  const best = variants[2]!;
  console.log(
    `optimized: ${fmt(naiveRow.cost_usd / best.cost_usd, 1)}× lower cost, accuracy ${fmt((best.accuracy - naiveRow.accuracy) * 100, 1)} points vs naive`,
  );
  const file = await writeResults('cost', {
    images: COUNT,
    model: MODEL,
    variants,
    ratios: {
      defaults: naiveRow.cost_usd / variants[1]!.cost_usd,
      optimized: naiveRow.cost_usd / best.cost_usd,
    },
    accuracy_delta_points: {
      defaults: (variants[1]!.accuracy - naiveRow.accuracy) * 100,
      optimized: (best.accuracy - naiveRow.accuracy) * 100,
    },
    targets: { cost_ratio: 10, accuracy_within_points: 1 },
  });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

await main();
