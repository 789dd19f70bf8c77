/**
 * Every billed call is counted, at the library level (issue 11 §2): the real OpenAI
 * provider against an OpenAI-compatible server on loopback whose answers go wrong in the
 * ways real ones do. Usage and cost add up failed billed attempts, the one repair call
 * and escalation; error records keep the image that was sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline, type PipelineOptions } from '../../src/pipeline/create-pipeline.js';
import { billedOf, markBilled, readAnswerJson } from '../../src/providers/billed.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { costUsd } from '../../src/providers/pricing.js';
import type { Usage } from '../../src/providers/spec.js';
import type { TestServer } from '../support/http.js';
import { type ChatCall, startCompatibleServer } from '../support/openai-compatible.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const pattern = parsePattern(
  {
    name: 'simple',
    format: 'json',
    instructions: 'Vendor and total.',
    json_schema: { vendor_name: 'string', total: 'number' },
  },
  'billed',
);
const GOOD = '{"vendor_name":"ACME","total":12.5}';
const USAGE = { prompt_tokens: 1000, completion_tokens: 20 };
const servers: TestServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
});

const usage = (calls: number): Usage => ({
  input_tokens: USAGE.prompt_tokens * calls,
  output_tokens: USAGE.completion_tokens * calls,
  image_tokens: expect.any(Number) as unknown as number,
  estimated: false,
});
const price = (calls: number, model = 'gpt-4.1-mini') =>
  costUsd('openai', model, {
    input_tokens: USAGE.prompt_tokens * calls,
    output_tokens: USAGE.completion_tokens * calls,
    image_tokens: 0,
    estimated: false,
  });

async function processWith(
  content: (call: ChatCall, n: number) => string,
  extra: Partial<PipelineOptions> = {},
) {
  const server = await startCompatibleServer(content, USAGE);
  servers.push(server);
  const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
  const pipeline = await createPipeline({
    pattern,
    provider,
    model: 'gpt-4.1-mini',
    cache: { spec: 'off' },
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...extra,
  });
  const record = await pipeline.process(await solidJpeg(300, 200), { label: 'r.jpg' });
  await pipeline.close();
  await provider.close();
  return { record, calls: server.calls };
}

describe('billed attempts add up', () => {
  it('a readable answer: one call, its usage and cost', async () => {
    const { record, calls } = await processWith(() => GOOD);
    expect(calls).toHaveLength(1);
    expect(record).toMatchObject({ status: 'ok', attempts: 1, usage: usage(1), cost_usd: price(1) });
    expect(record.cascade.repair).toBeNull();
  });

  it('an unreadable answer, then a good repair: two calls, both billed, the repair said', async () => {
    const { record, calls } = await processWith((_c, n) => (n === 1 ? 'ACME, 12.50' : GOOD));
    expect(calls).toHaveLength(2);
    expect(JSON.stringify(calls[1]!.body.messages)).not.toContain('image_url');
    expect(record).toMatchObject({ status: 'ok', attempts: 2, usage: usage(2), cost_usd: price(2) });
    expect(record.cascade.repair).toMatch(/not valid JSON/);
  });

  it('never readable: exactly one repair, BAD_RESPONSE with both calls billed and the image kept', async () => {
    const { record, calls } = await processWith(() => 'no idea');
    expect(calls).toHaveLength(2);
    expect(record).toMatchObject({
      status: 'error',
      error: { code: 'BAD_RESPONSE' },
      attempts: 2,
      usage: usage(2),
      cost_usd: price(2),
      image: { width: 300, height: 200 },
    });
    expect(record.error?.message).toMatch(/one repair attempt/);
  });

  it('a billed failure that is retried (empty content) counts too', async () => {
    const { record, calls } = await processWith((_c, n) => (n === 1 ? '' : GOOD));
    expect(calls).toHaveLength(2);
    expect(record).toMatchObject({ status: 'ok', attempts: 2, usage: usage(2), cost_usd: price(2) });
  });

  it('an unreadable answer escalated to a stronger model: every call counted, priced per model', async () => {
    const server = await startCompatibleServer(
      (call) => (call.body.model === 'gpt-4.1' ? GOOD : 'hmm'),
      USAGE,
    );
    servers.push(server);
    const strong = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
    const { record } = await processWith((call) => (call.body.model === 'gpt-4.1' ? GOOD : 'hmm'), {
      escalation: { provider: strong, model: 'gpt-4.1' },
    });
    expect(record).toMatchObject({ status: 'ok', attempts: 3, usage: usage(3) });
    expect(record.cost_usd).toBeCloseTo(price(2)! + price(1, 'gpt-4.1')!, 10);
    await strong.close();
  });
});

describe('billed marks', () => {
  it('readAnswerJson marks a failure billed, repairable unless the answer was cut off', () => {
    const billed = { usage: usage(1), model: 'm' };
    const fail = (cutOff: string | undefined) => {
      try {
        readAnswerJson('openai', 'not json', billed, cutOff);
      } catch (error) {
        return error;
      }
      throw new Error('expected a failure');
    };
    expect(billedOf(fail(undefined))).toEqual({ ...billed, answer: 'not json' });
    expect(billedOf(fail(' (cut off)'))).toEqual(billed);
    expect(readAnswerJson('openai', '```json\n{"a":1}\n```', billed, undefined)).toEqual({ a: 1 });
    expect(billedOf(new Error('x'))).toBeUndefined();
    expect(billedOf(markBilled(new Error('y'), billed))).toBe(billed);
    expect(billedOf(undefined)).toBeUndefined();
  });
});
