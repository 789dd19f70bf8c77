/**
 * One of bench/flow.ts's three processes sharing a Redis limiter with no limit
 * configured: its third of the images through the pipeline, summary on stdout as JSON.
 *
 *   tsx bench/flow-worker.ts <baseUrl> <redisUrl> <limiterName> <k of 3> <valid images>
 */
import { openCache } from '../src/cache/open-cache.js';
import { createLimiter } from '../src/flow/create-limiter.js';
import { mapWindow } from '../src/flow/window.js';
import { createPipeline } from '../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../src/providers/http.js';
import { OpenAIProvider } from '../src/providers/openai.js';
import { BENCH_PATTERN, benchImages } from './throughput-fixtures.js';

const [baseUrl, redisUrl, name, k, count] = process.argv.slice(2);
const images = (await benchImages(Number(count), 101)).filter((_, i) => i % 3 === Number(k));
const limiter = createLimiter(redisUrl, { name });
const provider = new OpenAIProvider({ apiKey: 'sim', baseUrl: baseUrl! });
const cache = await openCache({ spec: 'off' });
const pipeline = await createPipeline({
  pattern: BENCH_PATTERN,
  provider,
  model: 'gpt-4o-mini',
  cache,
  limiter,
});
let ok = 0;
const ms: number[] = [];
for await (const record of mapWindow(images, 20, (data, i) =>
  pipeline.process(data, { label: `w${k}-${i}` }),
)) {
  if (record.status === 'ok') ok++;
  ms.push(record.latency_ms);
}
await pipeline.close();
await cache.close();
await limiter.close();
await closeAllAgents();
process.stdout.write(JSON.stringify({ ok, valid: images.length, ms }));
