/**
 * Throughput inside a provider rate limit, side by side in one run, against the
 * simulator speaking the OpenAI wire format: 300 RPM, 2–10 s latency and 5 % injected
 * 5xx, time compressed 5× (a simulated minute lasts 12 s).
 *
 *   visionpipe           sliding window of 50, smooth limiter at 300 RPM, retries honouring Retry-After
 *   visionpipe (10)      the same at the chunked baseline's concurrency
 *   chunked Promise.all  batches of 10 that wait for their slowest (the guide's Node example), no retries
 *   p-limit(10)          a window of 10 with naive retries (3 immediate re-tries)
 *   p-limit(50)          the same with more concurrency: what a 429 storm looks like
 *   sequential           one at a time (the first 100 images, rate extrapolated)
 *
 * Then three processes sharing one Redis limiter against the same limit.
 *
 *   npm run bench:throughput [-- --images 500 --redis redis://127.0.0.1:6379]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import { openCache } from '../src/cache/open-cache.js';
import { MemoryLimiter } from '../src/flow/memory-limiter.js';
import { mapWindow } from '../src/flow/window.js';
import { sha256 } from '../src/image/fingerprint.js';
import { createPipeline } from '../src/pipeline/create-pipeline.js';
import { OpenAIProvider } from '../src/providers/openai.js';
import type { ProviderImage } from '../src/providers/spec.js';
import { type AdmissionEvent, startSimulator } from '../src/simulator/index.js';
import { fmt, printTable, writeResults } from './support.js';
import { BENCH_PATTERN, benchImages } from './throughput-fixtures.js';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '500' },
    redis: { type: 'string', default: process.env.VISIONPIPE_TEST_REDIS ?? 'redis://127.0.0.1:6379' },
  },
});
const IMAGES = Number(args.images);
const RPM = 300;
// 5× compressed: fast enough to run in a minute or two, slow enough that the machine (which
// also runs the simulator) is not the bottleneck at 25 requests a second.
const TIME_SCALE = 0.2;
const MINUTE = 60_000 * TIME_SCALE;
const SIM = {
  rpm: RPM,
  timeScale: TIME_SCALE,
  latency: { minMs: 2000, maxMs: 10_000 },
  faults: { rate5xx: 0.05 },
  answer: 'empty' as const,
};

function asProviderImage(data: Buffer): ProviderImage {
  return { data, format: 'jpeg', width: 320, height: 240, sha256: sha256(data) };
}

interface Measure {
  variant: string;
  images: number;
  ok: number;
  wall_s: number;
  admitted: number;
  rate_limited: number;
  /** Admitted requests per simulated minute over the active period, as a fraction of the limit. */
  fraction_of_ceiling: number;
  /** Most requests admitted in any simulated minute. */
  max_in_window: number;
  images_per_sim_min: number;
}

function analyse(
  variant: string,
  events: AdmissionEvent[],
  images: number,
  ok: number,
  wallMs: number,
): Measure {
  const admitted = events
    .filter((e) => e.admitted)
    .map((e) => e.at)
    .sort((a, b) => a - b);
  const span = admitted.length > 1 ? admitted.at(-1)! - admitted[0]! : MINUTE;
  // Requests per simulated minute while sending; n-1 gaps between n requests.
  const rate = ((admitted.length - 1) / span) * MINUTE;
  let maxInWindow = 0;
  for (let i = 0, j = 0; i < admitted.length; i++) {
    while (admitted[i]! - admitted[j]! >= MINUTE) j++;
    maxInWindow = Math.max(maxInWindow, i - j + 1);
  }
  return {
    variant,
    images,
    ok,
    wall_s: wallMs / 1000,
    admitted: admitted.length,
    rate_limited: events.length - admitted.length,
    fraction_of_ceiling: rate / RPM,
    max_in_window: maxInWindow,
    images_per_sim_min: (ok / wallMs) * MINUTE,
  };
}

async function naiveCall(provider: OpenAIProvider, image: Buffer, retries: number): Promise<boolean> {
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      await provider.extract(
        { image: asProviderImage(image), pattern: BENCH_PATTERN, model: 'gpt-4o-mini' },
        AbortSignal.timeout(30_000),
      );
      return true;
    } catch {}
  }
  return false;
}

async function main() {
  const images = await benchImages(IMAGES);
  let events: AdmissionEvent[] = [];
  const simulator = await startSimulator({ ...SIM, onAdmission: (event) => events.push(event) });
  const provider = new OpenAIProvider({ apiKey: 'sim', baseUrl: simulator.baseUrls.openai });
  const results: Measure[] = [];
  const drain = () => new Promise((resolve) => setTimeout(resolve, MINUTE * 1.2)); // let the window empty

  async function measure(variant: string, run: () => Promise<{ images: number; ok: number }>) {
    await drain();
    events = [];
    const started = performance.now();
    const { images: n, ok } = await run();
    results.push(analyse(variant, events, n, ok, performance.now() - started));
    process.stderr.write(`${variant}: done\n`);
  }

  // visionpipe at its default window, then at the chunked baseline's concurrency (10): the
  // second isolates what a sliding window gains over chunks that wait for their slowest.
  for (const window of [50, 10]) {
    await measure(`visionpipe (window ${window}, limiter ${RPM} RPM)`, async () => {
      // Every time constant is compressed with the clock, the limiter's one-second burst too.
      const limiter = new MemoryLimiter({ rpm: RPM, intervalMs: MINUTE, burstMs: 1000 * TIME_SCALE });
      const cache = await openCache({ spec: 'off' });
      const pipeline = await createPipeline({
        pattern: BENCH_PATTERN,
        provider,
        model: 'gpt-4o-mini',
        limiter,
        cache,
        breaker: false,
      });
      let ok = 0;
      for await (const record of mapWindow(images, window, (data, i) =>
        pipeline.process(data, { label: `image-${i}` }),
      )) {
        if (record.status === 'ok') ok++;
      }
      await limiter.close();
      await cache.close();
      return { images: images.length, ok };
    });
  }
  await measure('chunked Promise.all(10), no retries', async () => {
    let ok = 0;
    for (let i = 0; i < images.length; i += 10) {
      const results = await Promise.all(
        images.slice(i, i + 10).map((image) => naiveCall(provider, image, 0)),
      );
      ok += results.filter(Boolean).length;
    }
    return { images: images.length, ok };
  });
  for (const concurrency of [10, 50]) {
    await measure(`p-limit(${concurrency}), naive retries`, async () => {
      const limit = pLimit(concurrency);
      const results = await Promise.all(images.map((image) => limit(() => naiveCall(provider, image, 3))));
      return { images: images.length, ok: results.filter(Boolean).length };
    });
  }
  await measure('sequential (first 100)', async () => {
    let ok = 0;
    for (const image of images.slice(0, 100)) if (await naiveCall(provider, image, 0)) ok++;
    return { images: 100, ok };
  });

  // Three processes, one Redis limiter, one provider limit.
  await drain();
  events = [];
  const started = performance.now();
  const worker = path.join(import.meta.dirname, 'throughput-worker.ts');
  const limiterName = `bench-throughput-${randomUUID()}`;
  const shares = [0, 1, 2].map((k) => images.filter((_, i) => i % 3 === k).length);
  const outcomes = await Promise.all(
    [0, 1, 2].map(
      (k) =>
        new Promise<{ ok: number; error?: string }>((resolve) => {
          const child = spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              worker,
              simulator.baseUrls.openai,
              args.redis,
              limiterName,
              String(k),
              String(IMAGES),
              String(RPM),
              String(MINUTE),
            ],
            {
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          );
          let out = '';
          child.stdout.on('data', (chunk) => {
            out += chunk;
          });
          child.on('close', () => {
            try {
              resolve(JSON.parse(out) as { ok: number });
            } catch {
              resolve({ ok: 0, error: out });
            }
          });
        }),
    ),
  );
  const shared = analyse(
    '3 processes, shared Redis limiter',
    events,
    shares.reduce((a, b) => a + b, 0),
    outcomes.reduce((a, b) => a + b.ok, 0),
    performance.now() - started,
  );
  results.push(shared);

  await provider.close();
  await simulator.close();

  printTable(
    `${IMAGES} images against a ${RPM} RPM limit, 2–10 s latency, 5 % 5xx (simulated minute = ${MINUTE / 1000} s)`,
    ['variant', 'of ceiling', 'max/min', '429s', 'success', 'images/sim-min', 'wall s'],
    results.map((r) => [
      r.variant,
      `${fmt(r.fraction_of_ceiling * 100, 1)} %`,
      r.max_in_window,
      r.rate_limited,
      `${fmt((r.ok / r.images) * 100, 1)} %`,
      fmt(r.images_per_sim_min, 1),
      fmt(r.wall_s, 1),
    ]),
  );
  const vp = results[0]!;
  const vpAt10 = results[1]!;
  const chunked = results[2]!;
  const ratios = {
    visionpipe_vs_chunked: vp.images_per_sim_min / chunked.images_per_sim_min,
    equal_concurrency_vs_chunked: vpAt10.images_per_sim_min / chunked.images_per_sim_min,
  };
  console.log(`visionpipe vs chunked: ${fmt(ratios.visionpipe_vs_chunked)}× images per minute`);
  console.log(
    `at equal concurrency (10 in flight): ${fmt(ratios.equal_concurrency_vs_chunked)}× images per minute`,
  );
  const file = await writeResults('throughput', {
    images: IMAGES,
    rpm: RPM,
    time_scale: TIME_SCALE,
    simulator: SIM,
    results,
    ratios,
    targets: {
      fraction_of_ceiling: 0.97,
      success: 0.999,
      equal_concurrency_vs_chunked: 1.5,
      shared_fraction: 0.95,
    },
  });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

await main();
