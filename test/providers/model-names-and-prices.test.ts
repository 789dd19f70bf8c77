/**
 * A model gets the same size profile and price however it is spelled (gateway prefixes,
 * upper case, dated snapshots, Gemini resource names); a call is priced by the model asked
 * for unless the answer names a dated/version alias of it, and the record says when they
 * differ; a double-encoded JSON answer is read one level further. Real OpenAI provider
 * against an OpenAI-compatible server on loopback, a real corpus scan.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { isSameModel, normalizeModelId } from '../../src/providers/model-ids.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { costUsd } from '../../src/providers/pricing.js';
import type { TestServer } from '../support/http.js';
import { corpus } from '../support/images.js';
import { type Reply, startCompatibleServer } from '../support/openai-compatible.js';

const pattern = parsePattern(
  {
    name: 'simple',
    format: 'json',
    instructions: 'Vendor and total.',
    json_schema: { vendor_name: 'string', total: 'number' },
  },
  'model-names',
);
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
});
const usage = { input_tokens: 1_000_000, output_tokens: 0, image_tokens: 0, estimated: false };

describe('model ids are normalised for profile and price lookup', () => {
  const openai = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: 'http://127.0.0.1:9/v1' });
  it.each([
    'openai/gpt-4.1-mini',
    'GPT-4.1-MINI',
    'azure/gpt-4.1-mini',
    'gpt-4.1-mini-2025-04-14',
    'openrouter/openai/gpt-4.1-mini',
  ])('%s: the profile and price of gpt-4.1-mini', (name) => {
    expect(normalizeModelId(name).startsWith('gpt-4.1-mini')).toBe(true);
    expect(openai.sizeProfile(name).name).toBe(openai.sizeProfile('gpt-4.1-mini').name);
    expect(openai.sizeProfile(name).name).toBe('openai-patches');
    expect(openai.estimateImageTokens(1024, 1024, name)).toBe(
      openai.estimateImageTokens(1024, 1024, 'gpt-4.1-mini'),
    );
    expect(costUsd('openai', name, usage)).toBe(costUsd('openai', 'gpt-4.1-mini', usage));
  });
  it('azure/gpt-4o: the tile profile and gpt-4o price', () => {
    expect(openai.sizeProfile('azure/gpt-4o').name).toBe('openai-high');
    expect(costUsd('openai', 'azure/gpt-4o', usage)).toBe(costUsd('openai', 'gpt-4o', usage));
    expect(costUsd('openai', 'AZURE/GPT-4O', usage)).not.toBeNull();
  });
  it('models/gemini-2.5-flash and Bedrock claude ids: priced like the plain id', () => {
    expect(costUsd('gemini', 'models/gemini-2.5-flash', usage)).toBe(
      costUsd('gemini', 'gemini-2.5-flash', usage),
    );
    expect(costUsd('gemini', 'models/gemini-2.5-flash', usage)).not.toBeNull();
    expect(costUsd('anthropic', 'anthropic.claude-sonnet-4-5-20250929-v1:0', usage)).toBe(
      costUsd('anthropic', 'claude-sonnet-4-5', usage),
    );
  });
  it.each([
    ['claude-sonnet-4-20250514', 3],
    ['claude-sonnet-4-0', 3],
    ['claude-3-5-sonnet-20241022', 3],
    ['claude-3-5-sonnet-latest', 3],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 3],
    ['claude-3-7-sonnet-20250219', 3],
    ['claude-opus-4-20250514', 15],
  ])('%s is priced (Anthropic pricing page: $%d per 1M input tokens)', (name, input) => {
    expect(costUsd('anthropic', name, usage)).toBe(input);
    expect(costUsd('anthropic', name, { ...usage, input_tokens: 0, output_tokens: 1_000_000 })).toBe(
      input * 5,
    );
    // The Batch API: 50 % off input and output.
    expect(costUsd('anthropic', name, usage, { batch: true })).toBe(input / 2);
  });
  it('a Sonnet 4.5 snapshot keeps its own entry, not Sonnet 4’s', () => {
    expect(costUsd('anthropic', 'claude-sonnet-4-5-20250929', usage)).toBe(
      costUsd('anthropic', 'claude-sonnet-4-5', usage),
    );
    expect(costUsd('anthropic', 'claude-opus-4-1-20250805', usage)).toBe(15);
  });
  it('gpt-4.1-mini is not gpt-4.1, and gpt-4o-mini is not an alias of gpt-4o', () => {
    expect(costUsd('openai', 'openai/gpt-4.1', usage)).not.toBe(costUsd('openai', 'gpt-4.1-mini', usage));
    expect(isSameModel('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(isSameModel('gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14')).toBe(true);
    expect(isSameModel('claude-sonnet-4-5', 'claude-sonnet-4-5-20250929')).toBe(true);
    expect(isSameModel('openai/gpt-4.1-mini', 'GPT-4.1-MINI')).toBe(true);
  });
});

async function run(model: string, reply: Reply | string) {
  const server = await startCompatibleServer(() => reply, { prompt_tokens: 1_000_000, completion_tokens: 0 });
  servers.push(server);
  const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
  const pipeline = await createPipeline({ pattern, provider, model, cache: { spec: 'off' } });
  const record = await pipeline.process(await readFile(corpus('invoice1.jpg')), { label: 'invoice1.jpg' });
  await pipeline.close();
  await provider.close();
  return record;
}
const ANSWER = '{"vendor_name":"ACME","total":12.5}';

describe('a call is priced by the model asked for', () => {
  it('a server naming a cheaper (or unknown) model cannot make the call cheaper or free; the record says so', async () => {
    const asked = costUsd('openai', 'gpt-4.1', usage);
    for (const named of ['gpt-4.1-nano', 'free-model']) {
      const record = await run('gpt-4.1', { content: ANSWER, model: named });
      expect(record.status).toBe('ok');
      expect(record.cost_usd).toBe(asked);
      expect(record.cascade.priced_as).toContain(`"${named}"`);
      expect(record.cascade.priced_as).toContain('priced as "gpt-4.1"');
    }
  });
  it('a dated alias of the model asked for is priced as that model, with no note', async () => {
    const record = await run('gpt-4.1-mini', { content: ANSWER, model: 'gpt-4.1-mini-2025-04-14' });
    expect(record.cost_usd).toBe(costUsd('openai', 'gpt-4.1-mini', usage));
    expect(record.cascade).not.toHaveProperty('priced_as');
  });
  it('a gateway name asked for (openai/gpt-4.1-mini) answered as gpt-4.1-mini: priced, no note', async () => {
    const record = await run('openai/gpt-4.1-mini', { content: ANSWER, model: 'gpt-4.1-mini' });
    expect(record.cost_usd).toBe(costUsd('openai', 'gpt-4.1-mini', usage));
    expect(record.cascade).not.toHaveProperty('priced_as');
  });
});

describe('a double-encoded JSON answer', () => {
  it('a JSON string holding the object is read one level further', async () => {
    const record = await run('gpt-4.1-mini', JSON.stringify(ANSWER));
    expect(record.status).toBe('ok');
    expect(record.output).toEqual({ vendor_name: 'ACME', total: 12.5 });
  });
  it('a string that holds no object stays a schema mismatch', async () => {
    const record = await run('gpt-4.1-mini', JSON.stringify('ACME 12.5'));
    expect(record.status).toBe('error');
    expect(record.error?.code).toBe('SCHEMA_MISMATCH');
  });
});
