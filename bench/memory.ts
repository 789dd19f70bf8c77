/**
 * Memory over a long run: the real CLI (`visionpipe run`, SQLite cache, JSONL journal,
 * progress, summary) over 1 000, 10 000 and 20 000 distinct images against the simulator,
 * sampling the process's peak resident memory. Inputs are streamed and nothing is kept
 * per image except in the cache's in-memory LRU fronts, which are bounded by bytes
 * (16 MB of results, 32 MB of preprocessed images): memory rises until they fill, then
 * stays flat. Each size runs twice: as installed, and with MALLOC_ARENA_MAX=2, which
 * the README recommends for long runs: glibc gives each thread that allocates (libuv's
 * pool, libvips' workers) its own arena, and those fragment as a run goes on; that, not
 * anything kept per image, is what grows (a heap-snapshot diff between image 6 000 and
 * 17 000 shows ~1 KB per image, all of it in the bounded results front).
 *
 *   npm run bench:memory [-- --sizes 1000,10000,20000]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { startSimulator } from '../src/simulator/index.js';
import { seededBytes } from '../test/support/images.js';
import { CACHE_DIR, fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: { sizes: { type: 'string', default: '1000,10000,20000' } },
});
const ROOT = path.resolve(import.meta.dirname, '..');

async function images(count: number): Promise<string> {
  const dir = path.join(CACHE_DIR, `memory-${count}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const jpeg = await sharp(seededBytes(16 * 16 * 3, 50_000 + i), {
      raw: { width: 16, height: 16, channels: 3 },
    })
      .resize(320, 240)
      .jpeg({ quality: 70 })
      .toBuffer();
    await writeFile(path.join(dir, `${String(i).padStart(6, '0')}.jpg`), jpeg);
  }
  await writeFile(path.join(dir, '.complete'), '');
  return dir;
}

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

async function run(
  folder: string,
  baseUrl: string,
  work: string,
  env: Record<string, string>,
): Promise<{ peak: number; wall: number; summary: { total: number; ok: number } }> {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const pattern = path.join(work, 'pattern.json');
  await writeFile(
    pattern,
    JSON.stringify({
      name: 'doc',
      format: 'json',
      instructions: 'Read it.',
      json_schema: { title: 'string' },
    }),
  );
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/visionpipe.cjs'),
      'run',
      folder,
      '-p',
      pattern,
      '--provider',
      'openai',
      '--base-url',
      baseUrl,
      '--concurrency',
      '20',
      '--json',
      '--no-progress',
    ],
    {
      cwd: work,
      env: { ...process.env, ...env, OPENAI_API_KEY: 'sim' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let peak = 0;
  const sampler = setInterval(async () => {
    if (child.pid) peak = Math.max(peak, await peakRss(child.pid));
  }, 100);
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  await new Promise((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  return {
    peak,
    wall: (performance.now() - started) / 1000,
    summary: JSON.parse(out) as { total: number; ok: number },
  };
}

async function main() {
  const sizes = args.sizes.split(',').map(Number);
  const folders = [];
  for (const size of sizes) folders.push(await images(size));
  const simulator = await startSimulator({ answer: 'empty', latency: { minMs: 1, maxMs: 5 } });
  const envs: Array<[string, Record<string, string>]> = [
    ['as installed', {}],
    ['MALLOC_ARENA_MAX=2', { MALLOC_ARENA_MAX: '2' }],
  ];
  const results: Array<{ env: string; images: number; ok: number; peak_rss_mb: number; wall_s: number }> = [];
  for (const [label, env] of envs) {
    for (const [i, size] of sizes.entries()) {
      const measured = await run(
        folders[i]!,
        simulator.baseUrls.openai,
        path.join(CACHE_DIR, `memory-work-${size}`),
        env,
      );
      results.push({
        env: label,
        images: size,
        ok: measured.summary.ok,
        peak_rss_mb: measured.peak / 1e6,
        wall_s: measured.wall,
      });
      console.error(`${label}, ${size}: done`);
    }
  }
  await simulator.close();
  printTable(
    'visionpipe run, SQLite cache and JSONL journal, simulator answers',
    ['node', 'images', 'ok', 'peak RSS MB', 'wall s'],
    results.map((r) => [r.env, r.images, r.ok, fmt(r.peak_rss_mb, 1), fmt(r.wall_s, 1)]),
  );
  // Each size against the one before it: flat from one step to the next means bounded.
  const ratios = Object.fromEntries(
    envs.map(([label]) => {
      const rows = results.filter((r) => r.env === label);
      return [
        label,
        Object.fromEntries(
          rows
            .slice(1)
            .map((row, i) => [`${row.images}_vs_${rows[i]!.images}`, row.peak_rss_mb / rows[i]!.peak_rss_mb]),
        ),
      ];
    }),
  );
  for (const [label, steps] of Object.entries(ratios))
    console.log(
      `${label}: peak memory ${Object.entries(steps)
        .map(([step, ratio]) => `${step.replace('_vs_', ' vs ')} images ${fmt(ratio)}×`)
        .join(', ')}`,
    );
  const file = await writeResults('memory', { results, ratios });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

await main();
