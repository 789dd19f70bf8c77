/**
 * Memory over a long run: the real CLI (`visionpipe run`, SQLite cache, JSONL journal,
 * progress, summary) over 1 000 and then 10 000 distinct images against the simulator,
 * sampling the process's peak resident memory. Streaming means the 10 000-image run
 * should need about what the 1 000-image run needs.
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
      env: { ...process.env, OPENAI_API_KEY: 'sim' },
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
  const results = [];
  for (const [i, size] of sizes.entries()) {
    const measured = await run(
      folders[i]!,
      simulator.baseUrls.openai,
      path.join(CACHE_DIR, `memory-work-${size}`),
    );
    results.push({
      images: size,
      ok: measured.summary.ok,
      peak_rss_mb: measured.peak / 1e6,
      wall_s: measured.wall,
    });
    console.error(`${size}: done`);
  }
  await simulator.close();
  printTable(
    'visionpipe run, SQLite cache and JSONL journal, simulator answers',
    ['images', 'ok', 'peak RSS MB', 'wall s'],
    results.map((r) => [r.images, r.ok, fmt(r.peak_rss_mb, 1), fmt(r.wall_s, 1)]),
  );
  const ratio = results[1]!.peak_rss_mb / results[0]!.peak_rss_mb;
  console.log(`peak memory ${results[1]!.images} vs ${results[0]!.images} images: ${fmt(ratio)}×`);
  const file = await writeResults('memory', { results, ratio });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

await main();
