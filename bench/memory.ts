/**
 * Memory over a long run: the real CLI (`visionpipe run`, SQLite cache, JSONL journal,
 * progress, summary) over 1 000 and then 10 000 distinct images against the simulator,
 * sampling the process's peak resident memory. Streaming means the 10 000-image run
 * should need about what the 1 000-image run needs. Each size runs twice: as installed
 * (V8 grows its heap lazily when the machine has memory to spare, so peak RSS overstates
 * what is retained), and under a 64 MB old-space cap: a run that retained anything per
 * image would die there at 10 000 images, so finishing under the cap is the proof.
 *
 *   npm run bench:memory [-- --small 1000 --large 10000]
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
  options: { small: { type: 'string', default: '1000' }, large: { type: 'string', default: '10000' } },
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
  const sizes = [Number(args.small), Number(args.large)];
  const folders = [];
  for (const size of sizes) folders.push(await images(size));
  const simulator = await startSimulator({ answer: 'empty', latency: { minMs: 1, maxMs: 5 } });
  const envs: Array<[string, Record<string, string>]> = [
    ['as installed', {}],
    ['heap capped at 64 MB', { NODE_OPTIONS: '--max-old-space-size=64' }],
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
  const ratios = Object.fromEntries(
    envs.map(([label]) => {
      const [small, large] = results.filter((r) => r.env === label);
      return [label, large!.peak_rss_mb / small!.peak_rss_mb];
    }),
  );
  for (const [label, ratio] of Object.entries(ratios))
    console.log(`${label}: peak memory ${sizes[1]} vs ${sizes[0]} images ${fmt(ratio)}×`);
  const file = await writeResults('memory', { results, ratios });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

await main();
