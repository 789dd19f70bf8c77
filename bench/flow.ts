/**
 * Flow control on servers whose limit the client was not told (issue 10), side by side
 * in one run: every zoo server (bench/flow-servers.ts) × concurrency 10, 20, 50, 300
 * valid images and 6 corrupt ones, no limit given to anyone.
 *
 *   visionpipe        createPipeline (the CLI's pipeline) with its adaptive flow, cache off
 *   openai SDK        the official `openai` npm SDK with its built-in retries (2) + p-limit
 *   chunked           Promise.all over chunks of 10, one fetch each, no retries (the ImgGo guide's Node example)
 *
 * Then three visionpipe processes sharing the Redis limiter (no limit configured) against
 * one token bucket.
 *
 * Per cell: fraction of the ceiling (accepted requests / (limit × wall)), the share of
 * requests refused (429, 529, 503 from the limiter), valid images that succeeded, good
 * results per second and p95 image latency.
 *
 *   npm run bench:flow [-- --images 300 --servers token-bucket,no-headers --levels 10,20,50 --skip-redis
 *                          --clients visionpipe,sdk --results flow-sliding]
 *
 * VISIONPIPE_FLOW_TRACE=<path> writes each visionpipe cell's calls (admitted, request made,
 * answer headers, done, the budget reported and what the flow learned; bench/flow-trace.ts)
 * and the server's admissions to <path>-<server>-c<n>.json, to lay beside the fake-clock model.
 *
 * Only the three processes, on servers of one's choice (`--servers none --clients none` skips
 * the single-process cells; VISIONPIPE_FLOW_TRACE=<path> makes each worker write its flow's
 * sends and outcomes to <path>-<k>.json):
 *
 *   npm run bench:flow -- --servers none --clients none --process-servers no-headers,token-bucket
 *                         --process-stores redis,none --results flow-processes
 *
 * `--servers` keeps the zoo servers whose name starts with one of the given names.
 * `bench/flow-ab.sh [BASE [HEAD]] [-- these arguments]` runs this harness against two
 * revisions' src/ in turn and prints them side by side (bench/flow-ab-table.ts).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import pLimit from 'p-limit';
import { openCache } from '../src/cache/open-cache.js';
import { mapWindow } from '../src/flow/window.js';
import { createPipeline } from '../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../src/providers/http.js';
import { OpenAIProvider } from '../src/providers/openai.js';
import { type AdmissionEvent, startSimulator } from '../src/simulator/index.js';
import { ceilingRps, simulatorOptions, ZOO_SERVERS, type ZooServer } from './flow-servers.js';
import { type TraceEvent, tracedFlow } from './flow-trace.js';
import { fmt, printTable, writeResults } from './support.js';
import { BENCH_PATTERN, benchImages } from './throughput-fixtures.js';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '300' },
    servers: { type: 'string' },
    levels: { type: 'string', default: '10,20,50' },
    clients: { type: 'string', default: 'visionpipe,sdk,chunked' },
    redis: { type: 'string', default: process.env.VISIONPIPE_TEST_REDIS ?? 'redis://127.0.0.1:6379' },
    'skip-redis': { type: 'boolean', default: false },
    /** Zoo servers (name prefixes) the three processes run against instead of the default pair. */
    'process-servers': { type: 'string' },
    /** Which three-process clients run there: redis (shared limits), none (each alone), sdk. */
    'process-stores': { type: 'string', default: 'redis,none,sdk' },
    'no-write': { type: 'boolean', default: false },
    /** Results file name under bench/results (a filtered run must not overwrite the full flow.json). */
    results: { type: 'string', default: 'flow' },
  },
});
const VALID = Number(args.images);
const INVALID = 6;
const LEVELS = args.levels.split(',').map(Number);
const CLIENTS = new Set(args.clients.split(','));
const servers = args.servers
  ? ZOO_SERVERS.filter((s) => args.servers!.split(',').some((name) => s.name.startsWith(name)))
  : ZOO_SERVERS;

interface Cell {
  server: string;
  client: string;
  concurrency: number;
  images: number;
  valid: number;
  valid_ok: number;
  requests: number;
  accepted: number;
  refused: number;
  refused_share: number;
  ceiling_rps: number;
  fraction_of_ceiling: number;
  good_per_s: number;
  /**
   * Valid images over the time until the last of them had a good result (per second);
   * null when some valid image never got one (`lost` of them): such a client does not
   * deliver the run at any rate.
   */
  all_valid_per_s: number | null;
  /** Valid images without a good result at the end. */
  lost: number;
  /**
   * What a user of this client does next when images failed: run the failed ones again
   * (at most RERUN_PASSES more passes, all of them, since a client cannot tell a corrupt
   * image from a refused one). Valid images over the time until the last of them had a good
   * result across passes (per second), or null when some never did; `rerun_passes` is how
   * many extra passes ran. Only the SDK + p-limit peer re-runs; a client that lost nothing
   * has `completed_per_s` = `all_valid_per_s` and 0 passes.
   */
  completed_per_s: number | null;
  rerun_passes: number;
  wall_s: number;
  p95_ms: number;
}

interface Item {
  data: Buffer;
  valid: boolean;
  label: string;
}

/** One image's end: `doneAt` is Date.now() when its result was in. */
type Outcome = { ok: boolean; ms: number; valid: boolean; doneAt: number; label: string };

/** The outcome of `item` whose call started at `started` (performance.now()) and ends now. */
function ended(item: Item, ok: boolean, started: number): Outcome {
  return { ok, ms: performance.now() - started, valid: item.valid, doneAt: Date.now(), label: item.label };
}

function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
}

async function items(): Promise<Item[]> {
  const good = await benchImages(VALID, 101);
  const out: Item[] = good.map((data, i) => ({ data, valid: true, label: `image-${i}.jpg` }));
  // Corrupt JPEGs: the first bytes of a real one. No client can get a result for these.
  for (let i = 0; i < INVALID; i++)
    out.splice((i + 1) * Math.floor(VALID / (INVALID + 1)), 0, {
      data: good[i]!.subarray(0, 200),
      valid: false,
      label: `broken-${i}.jpg`,
    });
  return out;
}

function dataUrl(data: Buffer): string {
  return `data:image/jpeg;base64,${data.toString('base64')}`;
}

const SCHEMA = {
  type: 'object',
  properties: { merchant: { type: ['string', 'null'] }, total: { type: ['number', 'null'] } },
  required: ['merchant', 'total'],
  additionalProperties: false,
};

function chatBody(data: Buffer) {
  return {
    model: 'gpt-4o-mini',
    messages: [
      {
        role: 'user' as const,
        content: [
          { type: 'image_url' as const, image_url: { url: dataUrl(data) } },
          { type: 'text' as const, text: BENCH_PATTERN.instructions ?? 'Extract.' },
        ],
      },
    ],
    response_format: {
      type: 'json_schema' as const,
      json_schema: { name: 'receipt', strict: true, schema: SCHEMA },
    },
  };
}

/** Traced (VISIONPIPE_FLOW_TRACE=<path>): each visionpipe cell's flow and server admissions, <path>-<server>-c<n>.json. */
const TRACE = process.env.VISIONPIPE_FLOW_TRACE;

async function runVisionpipe(
  baseUrl: string,
  list: Item[],
  concurrency: number,
  trace?: TraceEvent[],
): Promise<Outcome[]> {
  const provider = new OpenAIProvider({ apiKey: 'sim', baseUrl });
  const cache = await openCache({ spec: 'off' });
  const pipeline = await createPipeline({
    pattern: BENCH_PATTERN,
    provider,
    model: 'gpt-4o-mini',
    cache,
    ...(trace ? { flow: tracedFlow(trace) } : {}),
  });
  const out: Outcome[] = [];
  for await (const { record, item } of mapWindow(list, concurrency, async (item) => ({
    record: await pipeline.process(item.data, { label: item.label }),
    item,
  }))) {
    out.push({
      ok: record.status === 'ok',
      ms: record.latency_ms,
      valid: item.valid,
      doneAt: Date.now(),
      label: item.label,
    });
  }
  await pipeline.close();
  await cache.close();
  await provider.close();
  return out;
}

async function runSdk(baseUrl: string, list: Item[], concurrency: number): Promise<Outcome[]> {
  const client = new OpenAI({ apiKey: 'sim', baseURL: baseUrl });
  const limit = pLimit(concurrency);
  return Promise.all(
    list.map((item) =>
      limit(async () => {
        const started = performance.now();
        try {
          const completion = await client.chat.completions.create(chatBody(item.data));
          JSON.parse(completion.choices[0]?.message.content ?? '');
          return ended(item, true, started);
        } catch {
          return ended(item, false, started);
        }
      }),
    ),
  );
}

async function runChunked(baseUrl: string, list: Item[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const call = async (item: Item): Promise<Outcome> => {
    const started = performance.now();
    try {
      const response = await fetch(`${baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sim', 'content-type': 'application/json' },
        body: JSON.stringify(chatBody(item.data)),
      });
      const body = (await response.json()) as { choices?: Array<{ message?: { content?: string } }> };
      JSON.parse(body.choices?.[0]?.message?.content ?? '');
      return ended(item, response.ok, started);
    } catch {
      return ended(item, false, started);
    }
  };
  for (let i = 0; i < list.length; i += 10) out.push(...(await Promise.all(list.slice(i, i + 10).map(call))));
  return out;
}

/** The "deliver every valid image" rate: valid images over the time to the last good one, or lost. */
function allValid(valid: number, validOk: number, untilLastMs: number) {
  return {
    all_valid_per_s: validOk >= valid && untilLastMs > 0 ? valid / (untilLastMs / 1000) : null,
    lost: Math.max(0, valid - validOk),
  };
}

/** Extra passes over the failed images when a client re-runs them (see Cell.completed_per_s). */
const RERUN_PASSES = 5;

async function measure(
  server: ZooServer,
  client: string,
  concurrency: number,
  list: Item[],
  run: (baseUrl: string, items: Item[]) => Promise<Outcome[]>,
  rerun = false,
  trace?: TraceEvent[],
): Promise<Cell> {
  const events: AdmissionEvent[] = [];
  const sim = await startSimulator({ ...simulatorOptions(server), onAdmission: (e) => events.push(e) });
  const started = performance.now();
  const startedAt = Date.now();
  const outcomes = await run(sim.baseUrls.openai, list);
  const wallMs = performance.now() - started;
  // The first pass is the measured cell; re-runs only time "until every valid image is done".
  const firstPass = events.slice();
  const lastOk = Math.max(startedAt, ...outcomes.filter((o) => o.ok && o.valid).map((o) => o.doneAt));
  let lastValidOk = lastOk;
  // Runners may yield in completion order: match outcomes to images by label.
  const failedOf = (items: Item[], got: Outcome[]) => {
    const ok = new Set(got.filter((o) => o.ok).map((o) => o.label));
    return items.filter((item) => !ok.has(item.label));
  };
  let failed = failedOf(list, outcomes);
  let passes = 0;
  while (rerun && passes < RERUN_PASSES && failed.some((item) => item.valid)) {
    passes++;
    const again = await run(sim.baseUrls.openai, failed);
    for (const o of again) if (o.ok && o.valid) lastValidOk = Math.max(lastValidOk, o.doneAt);
    failed = failedOf(failed, again);
  }
  await sim.close();
  if (trace && TRACE)
    writeFileSync(
      `${TRACE}-${server.name.replace(/\W+/g, '_')}-c${concurrency}.json`,
      JSON.stringify({ startedAt, wallMs, flow: trace, server: firstPass }),
    );
  const stillLost = failed.filter((item) => item.valid).length;
  const accepted = firstPass.filter((e) => e.admitted).length;
  const ceiling = ceilingRps(server);
  const validOk = outcomes.filter((o) => o.ok && o.valid).length;
  const valid = list.filter((i) => i.valid).length;
  return {
    server: server.name,
    client,
    concurrency,
    images: list.length,
    valid,
    valid_ok: validOk,
    requests: firstPass.length,
    accepted,
    refused: firstPass.length - accepted,
    refused_share: firstPass.length === 0 ? 0 : (firstPass.length - accepted) / firstPass.length,
    ceiling_rps: ceiling,
    fraction_of_ceiling: accepted / (ceiling * (wallMs / 1000)),
    good_per_s: validOk / (wallMs / 1000),
    ...allValid(valid, validOk, lastOk - startedAt),
    completed_per_s:
      stillLost === 0 && lastValidOk > startedAt ? valid / ((lastValidOk - startedAt) / 1000) : null,
    rerun_passes: passes,
    wall_s: wallMs / 1000,
    p95_ms: Math.round(p95(outcomes.map((o) => o.ms))),
  };
}

/**
 * Three worker processes on one budget, no limit configured: `store` is the Redis URL
 * (learned limits shared), `none` (each process learns alone) or `sdk` (SDK + p-limit).
 */
async function sharedRedis(
  list: Item[],
  server: ZooServer = ZOO_SERVERS[0]!,
  store: string = args.redis,
): Promise<Cell & { max_window_share: number }> {
  const events: AdmissionEvent[] = [];
  const sim = await startSimulator({ ...simulatorOptions(server), onAdmission: (e) => events.push(e) });
  const worker = path.join(import.meta.dirname, 'flow-worker.ts');
  const name = `bench-flow-${randomUUID()}`;
  // Traced, each server's files apart: <path>-<server>-<k>.json and <path>-<server>-server.json.
  const tracePath =
    process.env.VISIONPIPE_FLOW_TRACE &&
    `${process.env.VISIONPIPE_FLOW_TRACE}-${server.name.replace(/\W+/g, '_')}`;
  const traceEnv = tracePath ? { VISIONPIPE_FLOW_TRACE: tracePath } : {};
  const started = performance.now();
  const results: Array<{ ok: number; valid: number; ms: number[]; lastOkAt: number }> = await Promise.all(
    [0, 1, 2].map(
      (k) =>
        new Promise<{ ok: number; valid: number; ms: number[]; lastOkAt: number }>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', worker, sim.baseUrls.openai, store, name, String(k), String(VALID)],
            { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...traceEnv } },
          );
          let out = '';
          child.stdout.on('data', (chunk) => {
            out += chunk;
          });
          child.on('close', (code) =>
            code === 0 ? resolve(JSON.parse(out) as never) : reject(new Error(`worker ${k} exited ${code}`)),
          );
        }),
    ),
  );
  // Between the first and the last call: the workers' start-up (tsx, image generation) is not flow control.
  const wallMs = events.length > 1 ? events.at(-1)!.at - events[0]!.at : performance.now() - started;
  await sim.close();
  // Traced: the server's admissions beside the workers' flows, for a per-second timeline.
  if (tracePath) writeFileSync(`${tracePath}-server.json`, JSON.stringify(events));
  const accepted = events.filter((e) => e.admitted).map((e) => e.at);
  const ceiling = ceilingRps(server);
  // Most accepted in any one second (the bucket's burst is one second's worth).
  let maxInSecond = 0;
  for (let i = 0, j = 0; i < accepted.length; i++) {
    while (accepted[i]! - accepted[j]! >= 1000) j++;
    maxInSecond = Math.max(maxInSecond, i - j + 1);
  }
  const validOk = results.reduce((sum, r) => sum + r.ok, 0);
  const valid = results.reduce((sum, r) => sum + r.valid, 0);
  const firstAt = events[0]?.at ?? Date.now();
  const lastOk = Math.max(firstAt, ...results.map((r) => r.lastOkAt));
  return {
    server: `${server.name}, 3 processes`,
    client:
      store === 'sdk'
        ? 'openai SDK + p-limit ×3'
        : store === 'none'
          ? 'visionpipe ×3, alone'
          : 'visionpipe ×3 via Redis',
    concurrency: 20,
    images: list.length,
    valid,
    valid_ok: validOk,
    requests: events.length,
    accepted: accepted.length,
    refused: events.length - accepted.length,
    refused_share: (events.length - accepted.length) / Math.max(1, events.length),
    ceiling_rps: ceiling,
    fraction_of_ceiling: accepted.length / (ceiling * (wallMs / 1000)),
    good_per_s: validOk / (wallMs / 1000),
    ...allValid(valid, validOk, lastOk - firstAt),
    completed_per_s: allValid(valid, validOk, lastOk - firstAt).all_valid_per_s,
    rerun_passes: 0,
    wall_s: wallMs / 1000,
    p95_ms: Math.round(p95(results.flatMap((r) => r.ms))),
    max_window_share: maxInSecond / (ceiling * 2),
  };
}

async function main() {
  const list = await items();
  const cells: Cell[] = [];
  const log = (cell: Cell) => {
    cells.push(cell);
    process.stderr.write(
      `${cell.server} | ${cell.client} c${cell.concurrency}: ${fmt(cell.fraction_of_ceiling)} of ceiling, ${fmt(cell.refused_share * 100, 1)} % refused, ${cell.valid_ok}/${cell.valid} valid ok, ${fmt(cell.wall_s, 1)} s\n`,
    );
  };
  for (const server of servers) {
    for (const c of LEVELS) {
      if (CLIENTS.has('visionpipe')) {
        const trace: TraceEvent[] | undefined = TRACE ? [] : undefined;
        log(
          await measure(
            server,
            'visionpipe',
            c,
            list,
            (url, items) => runVisionpipe(url, items, c, trace),
            false,
            trace,
          ),
        );
      }
      if (CLIENTS.has('sdk'))
        log(
          await measure(server, 'openai SDK + p-limit', c, list, (url, items) => runSdk(url, items, c), true),
        );
    }
    if (CLIENTS.has('chunked'))
      log(await measure(server, 'chunked Promise.all(10)', 10, list, (url, items) => runChunked(url, items)));
  }
  let redis: (Cell & { max_window_share: number }) | undefined;
  const processes: Array<Cell & { max_window_share: number }> = [];
  const valid = list.filter((i) => i.valid);
  const trio = async (server: ZooServer, stores: string[]) => {
    for (const store of stores) {
      const cell = await sharedRedis(valid, server, store);
      processes.push(cell);
      log(cell);
    }
  };
  if (args['process-servers'] !== undefined) {
    const names = args['process-servers'].split(',');
    const stores = args['process-stores'].split(',').map((s) => (s === 'redis' ? args.redis : s));
    for (const server of ZOO_SERVERS.filter((s) => names.includes(s.name))) await trio(server, stores);
  } else if (!args['skip-redis']) {
    redis = await sharedRedis(valid);
    log(redis);
    // Where headers carry no budget, only the shared learned limits tell one process what
    // the others learned: the same three processes with and without them, and the SDK.
    await trio(ZOO_SERVERS.find((s) => s.name === 'no-headers')!, [args.redis, 'none', 'sdk']);
  }
  await closeAllAgents();

  const rows = cells.map((cell) => {
    const peer = cells.find(
      (p) =>
        p.server === cell.server &&
        p.concurrency === cell.concurrency &&
        p.client.startsWith('openai SDK + p-limit'),
    );
    const ratio =
      cell.client.startsWith('visionpipe') && peer ? cell.good_per_s / peer.good_per_s : undefined;
    const doneRatio =
      cell.client.startsWith('visionpipe') && peer?.completed_per_s && cell.completed_per_s
        ? cell.completed_per_s / peer.completed_per_s
        : undefined;
    return [
      cell.server,
      cell.client,
      cell.concurrency,
      fmt(cell.fraction_of_ceiling),
      `${fmt(cell.refused_share * 100, 1)} %`,
      `${cell.valid_ok}/${cell.valid}`,
      fmt(cell.good_per_s, 1),
      ratio === undefined ? '' : `${fmt(ratio)}×`,
      cell.all_valid_per_s === null ? `lost ${cell.lost}` : fmt(cell.all_valid_per_s, 1),
      cell.completed_per_s === null
        ? 'never'
        : `${fmt(cell.completed_per_s, 1)}${cell.rerun_passes > 0 ? ` (+${cell.rerun_passes})` : ''}`,
      doneRatio === undefined ? '' : `${fmt(doneRatio)}×`,
      cell.p95_ms,
    ];
  });
  printTable(
    `Flow control on zoo servers, no limit given (${VALID} valid + ${INVALID} corrupt images; 5 % 5xx, 1 % resets)`,
    [
      'server',
      'client',
      'conc',
      'ceiling',
      'refused',
      'valid ok',
      'good/s',
      'vs SDK',
      'all valid/s',
      'done/s',
      'vs SDK done',
      'p95 ms',
    ],
    rows,
  );
  if (redis)
    console.log(
      `\n3 processes via Redis: ${fmt(redis.fraction_of_ceiling)} of the ceiling, busiest second ${fmt(redis.max_window_share * 2)}× the rate (bucket burst allows 2×)`,
    );
  console.log(
    "\nall valid/s: valid images over the time until every one of them had a good result ('lost N': N never did).",
  );
  console.log(
    `done/s: the same after re-running the failed images, as a user of a client that gives up must (up to ${RERUN_PASSES} passes; '(+n)' passes ran, 'never' when some valid image still failed).`,
  );
  console.log('\nThe machine is shared with other jobs: figures carry that noise.');
  if (!args['no-write']) {
    const file = await writeResults(args.results, {
      note: 'zoo servers on 127.0.0.1 (synthetic images, simulated providers); machine shared with other jobs (noise)',
      servers: servers.map((s) => ({ ...s, ceiling_rps: ceilingRps(s) })),
      cells,
      redis,
      processes,
    });
    console.log(`\nwritten ${path.relative(process.cwd(), file)}`);
  }
}

await main();
