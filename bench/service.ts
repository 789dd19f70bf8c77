/**
 * The service scaled out, measured: `visionpipe serve --workers 0` (the API) and 1, 2
 * and 4 `visionpipe worker` processes on one PostgreSQL and one Redis, against the
 * provider simulator (OpenAI wire format, 2–10 s latency, time compressed 10×: 0.2–1 s)
 * with a rate limit that every worker shares through Redis (the ceiling). Per
 * configuration: a fresh database and Redis prefix, `--ingests` distinct images posted by
 * 16 concurrent clients, a registered webhook endpoint on a local receiver, and:
 *
 *   jobs/hour              completed ÷ (first ingest → last result)
 *   p50/p95 result         a job's own ingest → result latency (PostgreSQL `latency_ms`)
 *   p50/p95 webhook        result (`completed_at`) → webhook received
 *   API p99                every API request the bench made during the load (ingests, polls)
 *   × linear               jobs/hour ÷ (workers × jobs/hour of 1 worker): the linear baseline
 *   of ceiling             jobs/s ÷ the shared rate limit: the ceiling baseline
 *   bound by               `workers` while workers × the 1-worker rate stays under the ceiling,
 *                          `limit` from the first row where it would pass it: from there the
 *                          shared limit, not the workers, sets the rate (linear is capped there)
 *   limiter wait           the mean wait the shared limiter imposed per paid job: where it is 0
 *                          the limit did not bind, whatever `bound by` predicts
 *   ingests/s              accepted ÷ the time the 16 clients took to post them: the API must
 *                          take ingests faster than the ceiling, or the ceiling is out of reach
 *   lost, duplicate calls  accepted but never finished; images the simulator billed twice
 *   worker / API CPU/job   CPU time (/proc user+system) of the workers / the API ÷ jobs done,
 *                          counted from the first ingest (start-up excluded)
 *   machine CPU/job, busy  the whole machine's busy CPU time ÷ jobs done, and its busy share
 *                          (other users of the machine included: 1.00 means it was saturated)
 *   load                   the machine's 1-minute load average at the start and the end of the row
 *   where the time goes    per paid job (means): in the worker (started → completed in
 *                          PostgreSQL), of which the pipeline (the record's latency_ms), of
 *                          which the simulated provider (its known mean draw, 600 ms); and
 *                          slots busy: Σ in-worker time ÷ (worker processes × concurrency ×
 *                          wall). A worker whose slots are busy 100 % of the time with jobs
 *                          that spend most of it at the provider scales until the limit.
 *
 *   npm run bench:service [-- --ingests 2000 --workers 1,2,4 --concurrency 3 --limit 10 --profile-worker dir
 *                            --results service-loaded]
 *
 * Everything (API, workers, PostgreSQL, Redis, simulator, this script) runs on this one
 * machine, so the numbers are a floor: a machine with 2 cores shared with other work
 * cannot show more than its cores allow (the JSON records the machine).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import sharp from 'sharp';
import { startSimulator } from '../src/simulator/index.js';
import { fmt, printTable, writeResults } from './support.js';

const { values: args } = parseArgs({
  options: {
    ingests: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '1,2,4' },
    /**
     * Jobs per worker at once. 3: a job spends 0.7-0.8 s in a worker (0.6 s of it at the
     * simulated provider), so 1 worker does about 4 jobs/s and 2 about 8 (both under the
     * 10/s limit: they measure scaling), while 4 could do about 16: the limit is the
     * ceiling there, with room to spare. (2, the earlier default, left 4 workers at about
     * 11/s on a quiet machine and under the limit on a loaded one: the ceiling was never
     * what the top row measured.)
     */
    concurrency: { type: 'string', default: '3' },
    limit: { type: 'string', default: '10' },
    /** Results file name under bench/results/ (a run on a loaded machine can be kept apart). */
    results: { type: 'string', default: 'service' },
    /** Write a V8 CPU profile of the first worker of each row into this folder. */
    'profile-worker': { type: 'string' },
    redis: { type: 'string', default: process.env.REDIS_URL || 'redis://127.0.0.1:6379' },
    postgres: {
      type: 'string',
      default: process.env.PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    },
  },
});
const INGESTS = Number(args.ingests);
const WORKER_COUNTS = args.workers.split(',').map(Number);
const CONCURRENCY = Number(args.concurrency);
/** The shared rate limit, requests per real second: the ceiling. */
const LIMIT_PER_S = Number(args.limit);
const TIME_SCALE = 0.1;
const CLIENTS = 16;
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/visionpipe.cjs');

const quantile = (values: number[], q: number) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

interface Proc {
  child: ChildProcess;
  output: string;
  stdout: string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

function start(argv: string[], env: Record<string, string>, nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...argv], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = {
    child,
    output: '',
    stdout: '',
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern}: ${proc.output}`)), timeoutMs);
        const check = () => {
          const match = proc.output.match(pattern);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          }
        };
        child.stdout?.on('data', check);
        child.stderr?.on('data', check);
        check();
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
      }),
  };
  const keep = (chunk: Buffer) => {
    proc.output = (proc.output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    proc.stdout += chunk.toString();
  });
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Killed with the bench if it dies first; the listener goes when the process does (rows add up).
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  return proc;
}

/** CPU time (user + system) a live process has used so far, ms; NaN when /proc cannot tell. */
async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU time of the whole machine so far (all cores, every process), ms. */
async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: ((total - idle) * 1000) / 100, total: (total * 1000) / 100 };
}

async function timed<T>(latencies: number[], run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    latencies.push(performance.now() - started);
  }
}

/**
 * A distinct 64×64 JPEG per seed: the seed's bytes written into the pixels (solid colours
 * alone can encode to the same JPEG, which the service rightly deduplicates, shrinking the load).
 */
async function image(seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(64 * 64 * 3, 128);
  for (let i = 0; i < 32; i++) pixels.fill((seed >> (i % 24)) & 1 ? 255 : 0, i * 96, i * 96 + 96);
  pixels.writeUInt32BE(seed, 3000);
  return sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg({ quality: 100 })
    .toBuffer();
}

interface Row {
  workers: number;
  ingests: number;
  accepted: number;
  completed: number;
  lost: number;
  /** Distinct images the simulator was paid for (= ingests when every image differs). */
  distinct_images_billed: number;
  /** Accepted ingests ÷ the seconds the clients took to post them all. */
  ingests_per_s: number;
  /** Ingests the API did not accept, by HTTP status. */
  refused: Record<number, number>;
  duplicate_calls: number;
  rate_limited: number;
  wall_s: number;
  jobs_per_hour: number;
  result_p50_ms: number;
  result_p95_ms: number;
  webhook_p50_ms: number;
  webhook_p95_ms: number;
  webhooks_received: number;
  api_p99_ms: number;
  /** CPU time of all worker processes ÷ completed jobs, ms. */
  worker_cpu_ms_per_job: number;
  /** CPU time of the API process ÷ completed jobs, ms. */
  api_cpu_ms_per_job: number;
  /** Busy CPU time of the whole machine (every process, other users' too) ÷ completed jobs, ms. */
  machine_cpu_ms_per_job: number;
  /** Share of the machine's CPU time that was busy during the load, 0-1 (1 = every core saturated). */
  machine_busy: number;
  /** 1-minute load average of the machine when the row started and when it ended (2 cores: 2 is full). */
  load_start: number;
  load_end: number;
  /** Mean ms per paid job from the worker taking it (started_at) to its result (completed_at). */
  in_worker_ms: number;
  /** Mean of the pipeline's own latency_ms per paid job (load, preprocess, cache, limiter, provider, validation). */
  pipeline_ms: number;
  /** Mean wait the shared rate limiter imposed per paid job, ms. */
  limiter_wait_ms: number;
  /** Σ in-worker time ÷ (worker processes × concurrency × wall): how busy the job slots were, 0-1. */
  slots_busy: number;
}

/** Mean simulated provider latency, real ms: the uniform 2-10 s draw × TIME_SCALE. */
const PROVIDER_MEAN_MS = ((2000 + 10_000) / 2) * TIME_SCALE;

async function measure(workerCount: number, seedBase: number): Promise<Row> {
  const loadStart = loadavg()[0]!;
  // Made before the clock starts: the bench's own image encoding is not the service's load.
  const images = await Promise.all(Array.from({ length: INGESTS }, (_, i) => image(seedBase + i)));
  const billed = new Map<string, number>();
  const sim = await startSimulator({
    latency: { minMs: 2000, maxMs: 10_000 },
    timeScale: TIME_SCALE,
    // The simulator's own limit (per simulated minute) sits 10 % above the shared one.
    rpm: Math.ceil(LIMIT_PER_S * 60 * TIME_SCALE * 1.1),
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
    onBilled: (e) => billed.set(e.sha256, (billed.get(e.sha256) ?? 0) + 1),
  });
  const dbName = `vp_bench_service_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: args.postgres });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const dbUrl = new URL(args.postgres);
  dbUrl.pathname = `/${dbName}`;
  const prefix = `vpbench-${process.pid}-${randomBytes(3).toString('hex')}`;
  const env = {
    DATABASE_URL: dbUrl.href,
    REDIS_URL: args.redis,
    VISIONPIPE_QUEUE_PREFIX: prefix,
    OPENAI_API_KEY: 'sim',
  };
  const hooks: number[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const completed = Date.parse(
        (JSON.parse(body) as { data: { completed_at: string } }).data.completed_at,
      );
      hooks.push(Date.now() - completed);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const procs: Proc[] = [];
  const db = new pg.Client({ connectionString: dbUrl.href });
  try {
    const keys = start(['keys', 'create', '--name', 'bench', '--scopes', 'admin:all'], env);
    await new Promise((resolve) => keys.child.once('exit', resolve));
    const key = keys.stdout.trim();
    const common = ['--allow-private-urls', '--provider', 'openai', '--base-url', sim.baseUrls.openai];
    const api = start(['serve', '--port', '0', '--workers', '0', '--rate-limit', 'off', ...common], env);
    procs.push(api);
    const base = `${(await api.waitFor(/visionpipe serve: (http:\/\/\S+)\/api/, 300_000))[1]}/api`;
    for (let i = 0; i < workerCount; i++) {
      const w = start(
        [
          'worker',
          ...common,
          '--concurrency',
          String(CONCURRENCY),
          '--rpm',
          String(LIMIT_PER_S * 60),
          '--state-dir',
          path.join(tmpdir(), `${prefix}-w${i}`),
        ],
        env,
        i === 0 && args['profile-worker']
          ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['profile-worker'])}`]
          : [],
      );
      procs.push(w);
      // Generous: on a machine loaded by other work, loading the CLI alone took over a minute.
      await w.waitFor(/visionpipe worker: taking jobs/, 300_000);
    }
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const { port } = receiver.address() as AddressInfo;
    await fetch(`${base}/webhooks`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ url: `http://127.0.0.1:${port}/hook` }),
    });
    const pattern = (await (
      await fetch(`${base}/patterns`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          name: 'Receipt',
          instructions: 'Read it',
          json_schema: { merchant: 'string', total: 'number' },
        }),
      })
    ).json()) as { data: { id: string } };
    const apiLatencies: number[] = [];
    await db.connect();
    let next = 0;
    let accepted = 0;
    const refused = new Map<number, number>();
    // CPU from here on: start-up (module loading, about 1-4 s a process) is not per-job cost.
    const cpuAtStart = await Promise.all(procs.map((p) => cpuMs(p.child.pid)));
    const machineAtStart = await machineCpu();
    const ingestStarted = performance.now();
    const ingesting = Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < INGESTS) {
          const bytes = images[next++]!;
          const form = new FormData();
          form.set('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'i.jpg');
          const answer = await timed(apiLatencies, () =>
            fetch(`${base}/patterns/${pattern.data.id}/ingest`, {
              method: 'POST',
              headers: { authorization: headers.authorization },
              body: form,
            }),
          );
          await answer.arrayBuffer();
          // 200: the same image was already done (two seeds can encode to the same JPEG): accepted too.
          if (answer.status === 202 || answer.status === 200) accepted++;
          else refused.set(answer.status, (refused.get(answer.status) ?? 0) + 1);
        }
      }),
    );
    // A client polling a job, as ImgGo's clients do, measured beside the ingests.
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await timed(apiLatencies, () =>
          fetch(`${base}/jobs?per_page=1`, { headers }).then((r) => r.arrayBuffer()),
        ).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await ingesting;
    const ingestS = (performance.now() - ingestStarted) / 1000;
    let finished = 0;
    const deadline = Date.now() + 30 * 60_000;
    let told = Date.now();
    for (;;) {
      const { rows } = await db.query<{ n: string }>(
        "select count(*) as n from jobs where status in ('succeeded','failed')",
      );
      finished = Number(rows[0]!.n);
      if (finished >= accepted || Date.now() > deadline) break;
      // A long row (2 000 ingests on one worker takes over 10 minutes) says it is alive.
      if (Date.now() - told > 30_000) {
        told = Date.now();
        console.error(`  ${finished} of ${accepted} finished (load ${fmt(loadavg()[0]!)})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const machineAtEnd = await machineCpu();
    const cpuAtEnd = await Promise.all(procs.map((p) => cpuMs(p.child.pid)));
    const [apiCpu = Number.NaN, ...workerCpus] = cpuAtEnd.map((v, i) => v - cpuAtStart[i]!);
    const workerCpu = workerCpus.reduce((a, b) => a + b, 0);
    const machineBusy = machineAtEnd.busy - machineAtStart.busy;
    const { rows: last } = await db.query<{ t: Date }>('select max(completed_at) as t from jobs');
    const { rows: first } = await db.query<{ t: Date }>('select min(created_at) as t from jobs');
    const wallS = (last[0]!.t.getTime() - first[0]!.t.getTime()) / 1000;
    polling = false;
    await poller;
    const hookDeadline = Date.now() + 20_000;
    while (hooks.length < finished && Date.now() < hookDeadline) await new Promise((r) => setTimeout(r, 100));
    const { rows: lat } = await db.query<{ latency_ms: number }>(
      "select latency_ms from jobs where status = 'succeeded'",
    );
    const { rows: ok } = await db.query<{ n: string }>(
      "select count(*) as n from jobs where status = 'succeeded'",
    );
    const completed = Number(ok[0]!.n);
    const latencies = lat.map((r) => r.latency_ms);
    const { rows: spent } = await db.query<{ in_worker: number; busy: number }>(
      `select avg(extract(epoch from (completed_at - started_at)) * 1000)::float8 as in_worker,
              coalesce(sum(extract(epoch from (completed_at - started_at)) * 1000), 0)::float8 as busy
         from jobs where status = 'succeeded' and cache = 'miss'`,
    );
    const { rows: piped } = await db.query<{ pipeline: number; waited: number }>(
      `select avg((record->>'latency_ms')::float8) as pipeline,
              avg((record->'rate_limited'->>'wait_ms')::float8) as waited
         from results`,
    );
    return {
      workers: workerCount,
      ingests: INGESTS,
      accepted,
      completed,
      lost: accepted - completed,
      distinct_images_billed: billed.size,
      ingests_per_s: accepted / ingestS,
      refused: Object.fromEntries(refused),
      duplicate_calls: [...billed.values()].filter((n) => n > 1).length,
      rate_limited: sim.stats.rateLimited,
      wall_s: wallS,
      jobs_per_hour: (completed / wallS) * 3600,
      result_p50_ms: quantile(latencies, 0.5),
      result_p95_ms: quantile(latencies, 0.95),
      webhook_p50_ms: quantile(hooks, 0.5),
      webhook_p95_ms: quantile(hooks, 0.95),
      webhooks_received: hooks.length,
      api_p99_ms: quantile(apiLatencies, 0.99),
      worker_cpu_ms_per_job: workerCpu / completed,
      api_cpu_ms_per_job: apiCpu / completed,
      machine_cpu_ms_per_job: machineBusy / completed,
      machine_busy: machineBusy / (machineAtEnd.total - machineAtStart.total),
      load_start: loadStart,
      load_end: loadavg()[0]!,
      in_worker_ms: spent[0]!.in_worker,
      pipeline_ms: piped[0]!.pipeline,
      limiter_wait_ms: piped[0]!.waited,
      slots_busy: spent[0]!.busy / (workerCount * CONCURRENCY * wallS * 1000),
    };
  } catch (error) {
    for (const p of procs) console.error(p.output.slice(-3000));
    throw error;
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await db.end().catch(() => {});
    receiver.close();
    await sim.close();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    const redis = new Redis(args.redis);
    let cursor = '0';
    do {
      const [nextCursor, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = nextCursor;
      if (found.length > 0) await redis.del(...found);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

const rows: Row[] = [];
for (const [i, n] of WORKER_COUNTS.entries()) {
  console.error(`measuring ${n} worker(s), ${INGESTS} ingests…`);
  rows.push(await measure(n, 1 + i * 1_000_000));
}
const single = rows.find((r) => r.workers === 1)?.jobs_per_hour;
const ceilingPerHour = LIMIT_PER_S * 3600;
const table = rows.map((r) => {
  const linear = single === undefined ? Number.NaN : Math.min(r.workers * single, ceilingPerHour);
  return {
    ...r,
    bound_by: single !== undefined && r.workers * single >= ceilingPerHour ? 'limit' : 'workers',
    linear_jobs_per_hour: linear,
    vs_linear: r.jobs_per_hour / linear,
    of_ceiling: r.jobs_per_hour / ceilingPerHour,
  };
});
printTable(
  `Service scale-out: ${INGESTS} ingests per row, ${CONCURRENCY} jobs per worker, shared limit ${LIMIT_PER_S}/s (ceiling ${ceilingPerHour} jobs/h), simulator 2-10 s x${TIME_SCALE}`,
  [
    'workers',
    'jobs/h',
    'linear jobs/h',
    'x linear',
    'of ceiling',
    'bound by',
    'limiter wait',
    'ingests/s',
    'p50 result',
    'p95 result',
    'p50 hook',
    'p95 hook',
    'API p99',
    'lost',
    'dup calls',
    '429s',
    'worker CPU/job',
    'API CPU/job',
    'machine CPU/job',
    'machine busy',
    'load start/end',
    'in worker',
    'pipeline',
    'provider',
    'slots busy',
  ],
  table.map((r) => [
    r.workers,
    Math.round(r.jobs_per_hour),
    Math.round(r.linear_jobs_per_hour),
    fmt(r.vs_linear),
    fmt(r.of_ceiling),
    r.bound_by,
    `${Math.round(r.limiter_wait_ms)} ms`,
    fmt(r.ingests_per_s),
    `${Math.round(r.result_p50_ms)} ms`,
    `${Math.round(r.result_p95_ms)} ms`,
    `${Math.round(r.webhook_p50_ms)} ms`,
    `${Math.round(r.webhook_p95_ms)} ms`,
    `${Math.round(r.api_p99_ms)} ms`,
    r.lost,
    r.duplicate_calls,
    r.rate_limited,
    `${fmt(r.worker_cpu_ms_per_job)} ms`,
    `${fmt(r.api_cpu_ms_per_job)} ms`,
    `${fmt(r.machine_cpu_ms_per_job)} ms`,
    fmt(r.machine_busy),
    `${fmt(r.load_start)} / ${fmt(r.load_end)}`,
    `${Math.round(r.in_worker_ms)} ms`,
    `${Math.round(r.pipeline_ms)} ms`,
    `${Math.round(PROVIDER_MEAN_MS)} ms`,
    fmt(r.slots_busy),
  ]),
);
const file = await writeResults(args.results, {
  settings: {
    ingests: INGESTS,
    workers: WORKER_COUNTS,
    concurrency_per_worker: CONCURRENCY,
    shared_limit_per_s: LIMIT_PER_S,
    simulator: { latency_ms: [2000, 10_000], time_scale: TIME_SCALE, clients: CLIENTS },
  },
  baselines: {
    linear: 'workers x the 1-worker jobs/hour, capped at the ceiling',
    ceiling: 'the shared rate limit',
  },
  rows: table,
});
console.log(`\nwrote ${path.relative(ROOT, file)}`);
