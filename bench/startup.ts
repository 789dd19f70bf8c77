/**
 * CLI start-up time (issue 10: `--help` and `--version` under 150 ms), side by side in one
 * run, samples interleaved so every row sees the same machine load:
 *
 *   bare node          `node -e 0`: the floor no CLI can go under
 *   visionpipe …       the built binary (bin/visionpipe.cjs → dist/) with --help, --version, run --help
 *   eager modules      node importing the CLI and every command's implementation up front:
 *                      what start-up costs when commands load their dependencies eagerly
 *   baseline …         with --baseline DIR, the same commands from another built checkout
 *                      (e.g. a worktree at the commit before lazy loading), named by its commit
 *
 * Wall time depends on how loaded the machine is; CPU time (user + sys of the process) much
 * less, so both are shown. Needs a build (`npm run build`); uses bash's `time` keyword.
 *
 *   npm run bench:startup [-- --runs 20 --baseline /path/to/other/checkout]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { traceCli } from '../test/support/module-trace/index.js';
import { fmt, median, printTable, writeResults } from './support.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    baseline: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const TARGET_MS = 150;

interface Variant {
  name: string;
  argv: string[];
}

const bin = (root: string) => path.join(root, 'bin/visionpipe.cjs');
const COMMANDS = [['--help'], ['--version'], ['run', '--help']];

/** An ES module that imports the program and every command's implementation, as an eager CLI would. */
function eagerScript(): string {
  const actions = readdirSync(path.join(ROOT, 'dist/cli/actions'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => path.join(ROOT, 'dist/cli/actions', f));
  const service = ['dist/service/start.js', 'dist/queue/start.js', 'dist/store/index.js'].map((f) =>
    path.join(ROOT, f),
  );
  const modules = [path.join(ROOT, 'dist/cli/program.js'), ...actions, ...service];
  return `await Promise.all(${JSON.stringify(modules)}.map((m) => import(m)));`;
}

function gitCommit(dir: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const variants: Variant[] = [
  { name: 'bare node (node -e 0)', argv: ['-e', '0'] },
  ...COMMANDS.map((c) => ({ name: `visionpipe ${c.join(' ')}`, argv: [bin(ROOT), ...c] })),
  { name: 'eager modules (every command loaded)', argv: ['--input-type=module', '-e', eagerScript()] },
];
let baseline: { dir: string; commit: string } | undefined;
if (args.baseline) {
  const dir = path.resolve(args.baseline);
  if (!existsSync(path.join(dir, 'dist/cli/main.js'))) {
    throw new Error(`--baseline ${dir}: no dist/cli/main.js there (build that checkout first)`);
  }
  baseline = { dir, commit: gitCommit(dir) };
  for (const c of COMMANDS) {
    variants.push({ name: `baseline ${baseline.commit}: ${c.join(' ')}`, argv: [bin(dir), ...c] });
  }
}
if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first');

/** One run through bash's `time`: wall, user and sys seconds of the node process. */
function sample(argv: readonly string[]): { wallMs: number; cpuMs: number } {
  const result = spawnSync(
    'bash',
    ['-c', 'TIMEFORMAT="%3R %3U %3S"; time "$@" >/dev/null 2>&1', 'time', process.execPath, ...argv],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
  );
  const [real, user, sys] = result.stderr.trim().split(/\s+/).slice(-3).map(Number);
  if (result.status !== 0 || real === undefined || user === undefined || sys === undefined) {
    throw new Error(`${argv.join(' ')}: exit ${result.status}: ${result.stderr}`);
  }
  return { wallMs: real * 1000, cpuMs: (user + sys) * 1000 };
}

const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.95) - 1]!;

for (const variant of variants) sample(variant.argv); // warm the file cache
const samples = new Map(variants.map((v) => [v.name, [] as Array<{ wallMs: number; cpuMs: number }>]));
for (let i = 0; i < RUNS; i++) {
  for (const variant of variants) samples.get(variant.name)!.push(sample(variant.argv));
}

// Which packages each visionpipe command loads (the same check test/cli/startup.test.ts makes).
const packages = new Map<string, string[]>();
for (const c of COMMANDS) packages.set(`visionpipe ${c.join(' ')}`, [...(await traceCli(c)).packages].sort());

const floor = median(samples.get(variants[0]!.name)!.map((s) => s.cpuMs));
const rows = variants.map((variant) => {
  const runs = samples.get(variant.name)!;
  const wall = runs.map((s) => s.wallMs);
  const cpu = runs.map((s) => s.cpuMs);
  return {
    name: variant.name,
    wall_median_ms: Math.round(median(wall)),
    wall_p95_ms: Math.round(p95(wall)),
    cpu_median_ms: Math.round(median(cpu)),
    cpu_over_bare_node: Number(fmt(median(cpu) / floor)),
    packages_loaded: packages.get(variant.name) ?? null,
  };
});

printTable(
  `CLI start-up, ${RUNS} runs each, interleaved (target: --help and --version under ${TARGET_MS} ms)`,
  ['variant', 'wall p50 ms', 'wall p95 ms', 'CPU p50 ms', '× bare node CPU', 'packages loaded'],
  rows.map((r) => [
    r.name,
    r.wall_median_ms,
    r.wall_p95_ms,
    r.cpu_median_ms,
    fmt(r.cpu_over_bare_node),
    r.packages_loaded ? r.packages_loaded.join(' ') || '-' : '',
  ]),
);
const file = await writeResults('startup', {
  runs: RUNS,
  target_ms: TARGET_MS,
  load_average: os.loadavg().map((l) => Number(l.toFixed(2))),
  ...(baseline ? { baseline } : {}),
  rows,
});
console.log(`\nwrote ${path.relative(ROOT, file)}`);
