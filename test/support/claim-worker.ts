/**
 * One process of the shared-cache claim test (test/security/shared-cache-claims.test.ts): a pipeline
 * on a Redis cache under a given namespace, an OpenAI-compatible provider on a loopback
 * server, the given images processed concurrently; prints one JSON line per record.
 * Usage: node --import tsx claim-worker.ts <redisUrl> <namespace> <stateDir> <baseUrl> <image>...
 */
import { parsePattern } from '../../src/patterns/parse.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { OpenAIProvider } from '../../src/providers/openai.js';

const [redisUrl, namespace, stateDir, baseUrl, ...images] = process.argv.slice(2);
if (!redisUrl || !namespace || !stateDir || !baseUrl)
  throw new Error('usage: redisUrl namespace stateDir baseUrl image...');
const provider = new OpenAIProvider({ apiKey: 'sk-test-claims-0000', baseUrl });
const pipeline = await createPipeline({
  pattern: parsePattern(
    {
      name: 'claims',
      format: 'json',
      instructions: 'Extract the total.',
      json_schema: { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] },
    },
    'claims',
  ),
  provider,
  model: 'gpt-4.1-mini',
  cache: { spec: redisUrl, namespace, stateDir },
});
const records = await Promise.all(images.map((image) => pipeline.process(image)));
for (const record of records)
  process.stdout.write(
    `${JSON.stringify({ input: record.input, status: record.status, cache: record.cache, attempts: record.attempts, output: record.output })}\n`,
  );
await pipeline.close();
await provider.close();
