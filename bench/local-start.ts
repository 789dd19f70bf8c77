/**
 * What a short local-engine run costs before its first page is read: the CLI's start and
 * the OCR workers it starts. Each tesseract worker gunzips and loads the language data
 * (~1.5 s of CPU); a run started one per core up front, now one, and more only while more
 * pages are read at once. Rows, samples interleaved so each sees the same machine load:
 *
 *   run 1 image (local)      `run samples/images/receipt-002.png --cache off`: one page
 *   run 3 images (local)     three sample images at the default concurrency: workers grow
 *   estimate 1 image         `estimate` on one PNG (openai prices, nothing called): start-up
 *                            of a command that can read documents (heic-decode now lazy)
 *   baseline …               with --baseline DIR, the same commands from another built
 *                            checkout (e.g. a worktree at main before this change)
 *
 * CPU is user + sys of the whole process (worker threads included), from bash's `time`;
 * wall time depends on the machine's load, CPU much less. Needs `npm run build`.
 *
 *   npm run bench:local-start [-- --runs 5 --baseline /path/to/other/checkout]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fmt, median, printTable, writeResults } from './support.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, baseline: { type: 'string' } },
});
const RUNS = Number(args.runs);
const SAMPLES = path.join(ROOT, 'samples/images');
const RECEIPT = path.join(ROOT, 'samples/patterns/receipt.yaml');

interface Variant {
  name: string;
  argv: string[];
}

const COMMANDS: Array<{ name: string; args: string[] }> = [
  { name: 'run 1 image (local)', args: ['run', path.join(SAMPLES, 'receipt-002.png'), '-p', RECEIPT] },
  {
    name: 'run 3 images (local)',
    args: [
      'run',
      ...['receipt-002.png', 'invoice-001.png', 'receipt-004.jpg'].map((f) => path.join(SAMPLES, f)),
      '-p',
      RECEIPT,
    ],
  },
  {
    name: 'estimate 1 image',
    args: [
      'estimate',
      path.join(SAMPLES, 'receipt-002.png'),
      '-p',
      RECEIPT,
      '--provider',
      'openai',
      '--model',
      'gpt-4o',
    ],
  },
];
const COMMON = ['--cache', 'off', '--no-progress'];

function gitCommit(dir: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const checkouts = [{ label: '', dir: ROOT }];
let baseline: { dir: string; commit: string } | undefined;
if (args.baseline) {
  const dir = path.resolve(args.baseline);
  if (!existsSync(path.join(dir, 'dist/cli/main.js'))) throw new Error(`--baseline ${dir}: build it first`);
  baseline = { dir, commit: gitCommit(dir) };
  checkouts.push({ label: `baseline ${baseline.commit}: `, dir });
}
if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first');
const variants: Variant[] = COMMANDS.flatMap((c) =>
  checkouts.map((k) => ({
    name: `${k.label}${c.name}`,
    argv: [path.join(k.dir, 'bin/visionpipe.cjs'), ...c.args, ...(c.args[0] === 'run' ? COMMON : [])],
  })),
);

/** One run through bash's `time` in a scratch folder: wall and CPU (user + sys) ms. */
function sample(argv: readonly string[]): { wallMs: number; cpuMs: number } {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'vp-bench-local-start-'));
  try {
    const result = spawnSync(
      'bash',
      ['-c', 'TIMEFORMAT="%3R %3U %3S"; time "$@" >/dev/null 2>&1', 'time', process.execPath, ...argv],
      { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', OPENAI_API_KEY: 'sk-bench-unused' } },
    );
    const [real, user, sys] = result.stderr.trim().split(/\s+/).slice(-3).map(Number);
    if (result.status !== 0 || real === undefined || user === undefined || sys === undefined) {
      throw new Error(`${argv.join(' ')}: exit ${result.status}: ${result.stderr}`);
    }
    return { wallMs: real * 1000, cpuMs: (user + sys) * 1000 };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

for (const variant of variants) sample(variant.argv); // warm the file cache
const samples = new Map(variants.map((v) => [v.name, [] as Array<{ wallMs: number; cpuMs: number }>]));
for (let i = 0; i < RUNS; i++) for (const v of variants) samples.get(v.name)!.push(sample(v.argv));

const rows = variants.map((variant) => {
  const runs = samples.get(variant.name)!;
  return {
    name: variant.name,
    wall_median_ms: Math.round(median(runs.map((s) => s.wallMs))),
    cpu_median_ms: Math.round(median(runs.map((s) => s.cpuMs))),
    cpu_min_ms: Math.round(Math.min(...runs.map((s) => s.cpuMs))),
  };
});
printTable(
  `Local-engine runs and start-up, ${RUNS} runs each, interleaved (CPU = user + sys, worker threads included)`,
  ['variant', 'wall p50 ms', 'CPU p50 ms', 'CPU min ms'],
  rows.map((r) => [r.name, r.wall_median_ms, r.cpu_median_ms, r.cpu_min_ms]),
);
const file = await writeResults('local-start', {
  runs: RUNS,
  load_average: os.loadavg().map((l) => Number(l.toFixed(2))),
  ...(baseline ? { baseline } : {}),
  rows,
});
console.log(`\nwrote ${path.relative(ROOT, file)} (${fmt(os.loadavg()[0]!)} load)`);
