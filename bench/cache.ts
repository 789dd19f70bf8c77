/**
 * Cache hit latency next to the raw backend operation, and a sample batch run twice.
 *
 *   visionpipe MemoryStore.getSync   vs  Map.get
 *   visionpipe SqliteStore.get       vs  a prepared SELECT on the same table layout
 *   visionpipe RedisStore.get        vs  ioredis GET of the same bytes
 * plus the full pipeline lookup (store get + decode) for each, and then the bundled
 * samples through the local engine twice with the SQLite cache: the second run is all hits.
 *
 *   npm run bench:cache [-- --ops 20000 --redis redis://127.0.0.1:6379]
 */
import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import * as hdr from 'hdr-histogram-js';
import { Redis } from 'ioredis';
import { MemoryStore } from '../src/cache/memory-store.js';
import { openCache } from '../src/cache/open-cache.js';
import { RedisStore } from '../src/cache/redis-store.js';
import { SqliteStore } from '../src/cache/sqlite-store.js';
import { loadPattern } from '../src/patterns/index.js';
import { ResultCacheStage } from '../src/pipeline/cache-stage.js';
import type { RunRecord } from '../src/pipeline/record.js';
import { PipelineSet } from '../src/runs/pipeline-set.js';
import { loadRouter } from '../src/runs/routes.js';
import { runBatch } from '../src/runs/run.js';
import { fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    ops: { type: 'string', default: '20000' },
    redis: { type: 'string', default: process.env.VISIONPIPE_TEST_REDIS ?? 'redis://127.0.0.1:6379' },
  },
});
const OPS = Number(args.ops);
const KEYS = 1000;

interface Latency {
  p50_us: number;
  p99_us: number;
}

/** Per-operation latency in microseconds (HDR histogram of nanoseconds), after a warm-up. */
async function measure(operation: (i: number) => unknown | Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < Math.min(2000, OPS); i++) await operation(i);
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000_000,
    numberOfSignificantValueDigits: 3,
  });
  for (let i = 0; i < OPS; i++) {
    const start = process.hrtime.bigint();
    await operation(i);
    histogram.recordValue(Number(process.hrtime.bigint() - start));
  }
  return {
    p50_us: histogram.getValueAtPercentile(50) / 1000,
    p99_us: histogram.getValueAtPercentile(99) / 1000,
  };
}

/** A realistic cached result (~1.2 kB of JSON). */
function sampleValue(i: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      output: {
        vendor_name: `Vendor ${i}`,
        invoice_number: `INV-${10000 + i}`,
        total: 1234.56,
        line_items: Array.from({ length: 8 }, (_, j) => ({
          description: `Item ${j} with a longer description`,
          quantity: j,
          unit_price: 9.99,
          amount: j * 9.99,
        })),
      },
      model: 'gpt-4o-mini',
      usage: { input_tokens: 1200, output_tokens: 180, image_tokens: 1105, estimated: false },
      cost_usd: 0.0003,
      image: { width: 1536, height: 2048, bytes: 412_000, original_bytes: 2_100_000 },
      profile: 'max2048',
      confidence: 0.93,
      input: `scans/${i}.jpg`,
      sha256: 'f'.repeat(64),
      run_id: randomUUID(),
      created_at: Date.now(),
    }),
  );
}

const key = (i: number) => `r:0123456789abcdef:${(i % KEYS).toString(16).padStart(64, '0')}`;

async function memoryRows() {
  const map = new Map<string, Buffer>();
  const store = new MemoryStore();
  for (let i = 0; i < KEYS; i++) {
    map.set(key(i), sampleValue(i));
    await store.set(key(i), sampleValue(i), 0);
  }
  const raw = await measure((i) => map.get(key(i)));
  const ours = await measure((i) => store.getSync(key(i)));
  const oursAsync = await measure((i) => store.get(key(i)));
  return { raw, ours, oursAsync };
}

async function sqliteRows(dir: string) {
  const store = new SqliteStore(path.join(dir, 'cache.sqlite'));
  for (let i = 0; i < KEYS; i++) await store.set(key(i), sampleValue(i), 0);
  const db = new Database(path.join(dir, 'cache.sqlite'), { readonly: true });
  const select = db.prepare<[string], { value: Buffer }>('SELECT value FROM entries WHERE key = ?');
  const raw = await measure((i) => select.get(key(i)));
  const ours = await measure((i) => store.get(key(i)));
  db.close();
  const stage = new ResultCacheStage({ results: store } as never, () => {}, 'bench');
  const decoded = await measure((i) => stage.lookup(key(i)));
  await store.close();
  return { raw, ours, decoded };
}

async function redisRows() {
  const namespace = `vp-bench:${randomUUID()}:`;
  const store = new RedisStore(args.redis, { namespace });
  if (!(await store.connect())) return undefined;
  const client = new Redis(args.redis);
  for (let i = 0; i < KEYS; i++) {
    await store.set(key(i), sampleValue(i), 600_000);
    await client.set(`${namespace}raw:${key(i)}`, sampleValue(i), 'EX', 600);
  }
  const raw = await measure((i) => client.getBuffer(`${namespace}raw:${key(i)}`));
  const ours = await measure((i) => store.get(key(i)));
  await store.clear();
  const keys = await client.keys(`${namespace}*`);
  if (keys.length) await client.unlink(...keys);
  client.disconnect();
  await store.close();
  return { raw, ours };
}

async function batchTwice(dir: string) {
  const images = path.resolve('samples/images');
  const files = (await readdir(images)).filter((f) => /^(receipt|invoice)-/.test(f)).sort();
  const timings: Array<{
    wall_s: number;
    hits: number;
    misses: number;
    dedup: number;
    provider_calls: number;
  }> = [];
  const invoice = await loadPattern('samples/patterns/invoice.json');
  const defaults = { pattern: invoice, provider: 'local', model: undefined, profile: undefined };
  for (let run = 0; run < 2; run++) {
    const cache = await openCache({ spec: 'sqlite', stateDir: path.join(dir, 'state') });
    // Receipts and invoices each with their own pattern, as samples/routes.yaml says.
    const pipelines = new PipelineSet({
      defaults,
      router: await loadRouter('samples/routes.yaml', defaults),
      providerOptions: {},
      cache,
      warn: () => {},
      sourceLimits: {},
      timeoutMs: 120_000,
    });
    const started = performance.now();
    const records: RunRecord[] = [];
    const items = files.map((f) => ({ kind: 'file' as const, label: f, path: path.join(images, f), rel: f }));
    for await (const { record } of runBatch(
      (async function* () {
        yield* items;
      })(),
      (item) => pipelines.pipelineFor(item),
      { concurrency: os.availableParallelism() },
    )) {
      records.push(record);
    }
    const wall = (performance.now() - started) / 1000;
    timings.push({
      wall_s: wall,
      hits: records.filter((r) => r.cache === 'hit').length,
      misses: records.filter((r) => r.cache === 'miss').length,
      dedup: records.filter((r) => r.cache === 'dedup').length,
      provider_calls: records.reduce((sum, r) => sum + r.attempts, 0),
    });
    await pipelines.close();
    await cache.close();
  }
  return { images: files.length, runs: timings };
}

async function main() {
  const dir = path.join(os.tmpdir(), `visionpipe-bench-cache-${process.pid}`);
  const memory = await memoryRows();
  const sqlite = await sqliteRows(dir);
  const redis = await redisRows();
  const rows: Array<Array<string | number>> = [
    [
      'memory',
      'Map.get',
      fmt(memory.raw.p50_us, 3),
      fmt(memory.raw.p99_us, 3),
      fmt(memory.ours.p50_us, 3),
      fmt(memory.ours.p99_us, 3),
      fmt(memory.ours.p50_us / memory.raw.p50_us),
    ],
    [
      'memory (async interface)',
      'Map.get',
      fmt(memory.raw.p50_us, 3),
      fmt(memory.raw.p99_us, 3),
      fmt(memory.oursAsync.p50_us, 3),
      fmt(memory.oursAsync.p99_us, 3),
      fmt(memory.oursAsync.p50_us / memory.raw.p50_us),
    ],
    [
      'sqlite',
      'prepared SELECT',
      fmt(sqlite.raw.p50_us),
      fmt(sqlite.raw.p99_us),
      fmt(sqlite.ours.p50_us),
      fmt(sqlite.ours.p99_us),
      fmt(sqlite.ours.p50_us / sqlite.raw.p50_us),
    ],
    [
      'sqlite + decode (pipeline lookup)',
      'prepared SELECT',
      fmt(sqlite.raw.p50_us),
      fmt(sqlite.raw.p99_us),
      fmt(sqlite.decoded.p50_us),
      fmt(sqlite.decoded.p99_us),
      fmt(sqlite.decoded.p50_us / sqlite.raw.p50_us),
    ],
  ];
  if (redis) {
    rows.push([
      'redis',
      'ioredis GET',
      fmt(redis.raw.p50_us),
      fmt(redis.raw.p99_us),
      fmt(redis.ours.p50_us),
      fmt(redis.ours.p99_us),
      fmt(redis.ours.p50_us / redis.raw.p50_us),
    ]);
  }
  printTable(
    `Cache hit latency, µs (${OPS} gets over ${KEYS} keys, ~1.2 kB values)`,
    ['store', 'raw op', 'raw p50', 'raw p99', 'visionpipe p50', 'visionpipe p99', 'ratio p50'],
    rows,
  );
  if (!redis) console.log(`(Redis at ${args.redis} not reachable: skipped)`);

  const batch = await batchTwice(dir);
  const [first, second] = batch.runs;
  printTable(
    `The ${batch.images} sample receipts and invoices, local engine, SQLite cache, run twice`,
    ['run', 'wall s', 'hits', 'misses', 'dedup', 'provider calls'],
    [
      ['first', fmt(first!.wall_s), first!.hits, first!.misses, first!.dedup, first!.provider_calls],
      ['second', fmt(second!.wall_s, 3), second!.hits, second!.misses, second!.dedup, second!.provider_calls],
    ],
  );
  console.log(
    `second run: ${fmt(first!.wall_s / second!.wall_s, 0)}× faster, ${second!.provider_calls} provider calls`,
  );
  await rm(dir, { recursive: true, force: true });

  const file = await writeResults('cache', {
    ops: OPS,
    keys: KEYS,
    hit_latency_us: { memory, sqlite, redis: redis ?? null },
    ratios_p50: {
      memory_sync: memory.ours.p50_us / memory.raw.p50_us,
      memory_async: memory.oursAsync.p50_us / memory.raw.p50_us,
      sqlite: sqlite.ours.p50_us / sqlite.raw.p50_us,
      sqlite_with_decode: sqlite.decoded.p50_us / sqlite.raw.p50_us,
      redis: redis ? redis.ours.p50_us / redis.raw.p50_us : null,
    },
    target_ratio: 1.5,
    batch_twice: batch,
    speedup: first!.wall_s / second!.wall_s,
  });
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

await main();
