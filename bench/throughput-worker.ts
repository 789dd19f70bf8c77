/**
 * One of the three processes of bench/throughput.ts's shared-limit run: its share of the
 * images through a pipeline whose limiter lives in Redis, so all three pace together.
 * argv: baseUrl redisUrl limiterName index total rpm intervalMs. Prints {"ok": n}.
 */
import { openCache } from '../src/cache/open-cache.js';
import { RedisLimiter } from '../src/flow/redis-limiter.js';
import { mapWindow } from '../src/flow/window.js';
import { createPipeline } from '../src/pipeline/create-pipeline.js';
import { OpenAIProvider } from '../src/providers/openai.js';
import { BENCH_PATTERN, benchImages } from './throughput-fixtures.js';

const [baseUrl, redisUrl, name, index, total, rpm, intervalMs] = process.argv.slice(2);
const mine = (await benchImages(Number(total))).filter((_, i) => i % 3 === Number(index));
// The bench compresses time; the one-second burst is compressed with it.
const limiter = new RedisLimiter({
  url: redisUrl!,
  name: name!,
  rpm: Number(rpm),
  intervalMs: Number(intervalMs),
  burstMs: (1000 * Number(intervalMs)) / 60_000,
});
const provider = new OpenAIProvider({ apiKey: 'sim', baseUrl: baseUrl! });
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
for await (const record of mapWindow(mine, 50, (data, i) =>
  pipeline.process(data, { label: `p${index}-${i}` }),
)) {
  if (record.status === 'ok') ok++;
}
await limiter.close();
await provider.close();
await cache.close();
process.stdout.write(JSON.stringify({ ok }));
