/**
 * Every billed call is counted, at the library level (issue 11 §2): the real OpenAI
 * provider against an OpenAI-compatible server on loopback whose answers go wrong in the
 * ways real ones do. Usage and cost add up failed billed attempts, the one repair call
 * and escalation; error records keep the image that was sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline, type PipelineOptions } from '../../src/pipeline/create-pipeline.js';
import { extractStage } from '../../src/pipeline/stages.js';
import { billedOf, markBilled, readAnswerJson } from '../../src/providers/billed.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { costUsd } from '../../src/providers/pricing.js';
import type { Usage } from '../../src/providers/spec.js';
import { openaiImageTokens } from '../../src/providers/tokens.js';
import type { TestServer } from '../support/http.js';
import { type ChatCall, type Reply, startCompatibleServer } from '../support/openai-compatible.js';
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
  content: (call: ChatCall, n: number) => string | Reply,
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
    // Both calls carried the image.
    expect(record.usage.image_tokens).toBe(2 * openaiImageTokens(300, 200, 'gpt-4.1-mini'));
  });

  it('an HTTP failure is not billed: retried, and only the answer that came is counted', async () => {
    const { record, calls } = await processWith((_c, n) => (n === 1 ? { status: 500 } : GOOD));
    expect(calls).toHaveLength(2);
    expect(record).toMatchObject({ status: 'ok', attempts: 2, usage: usage(1), cost_usd: price(1) });
  });

  it('failures that are not about the answer are not repaired: the retry policy decides, attempts counted', async () => {
    const { record, calls } = await processWith(() => ({ status: 500 }), {
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 },
    });
    expect(calls).toHaveLength(3);
    expect(record).toMatchObject({
      status: 'error',
      error: { code: 'PROVIDER_UNAVAILABLE' },
      attempts: 3,
      cost_usd: 0,
    });
  });

  it('a repair call that fails for another reason keeps that reason, and every call is counted', async () => {
    const { record, calls } = await processWith((_c, n) => (n === 1 ? 'not json' : { status: 503 }), {
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
    });
    expect(calls).toHaveLength(3);
    expect(record).toMatchObject({
      status: 'error',
      error: { code: 'PROVIDER_UNAVAILABLE' },
      attempts: 3,
      usage: usage(1),
      cost_usd: price(1),
    });
  });

  it('a schema mismatch after the call is SCHEMA_MISMATCH, billed', async () => {
    const { record } = await processWith(() => '{"vendor_name": 5, "total": "twelve"}');
    expect(record).toMatchObject({ status: 'error', error: { code: 'SCHEMA_MISMATCH' }, cost_usd: price(1) });
  });

  it('usage stays marked estimated when any billed call had no usage block', async () => {
    const { record } = await processWith((_c, n) => (n === 1 ? { content: 'nope', usage: null } : GOOD));
    expect(record.status).toBe('ok');
    expect(record.usage.estimated).toBe(true);
    expect(record.usage.input_tokens).toBeGreaterThan(USAGE.prompt_tokens);
  });

  it('a triage answer that is neither yes nor no is not retried blindly', async () => {
    const server = await startCompatibleServer('maybe?', USAGE);
    servers.push(server);
    const judge = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
    const { record } = await processWith(() => GOOD, { triage: { provider: judge, model: 'gpt-4.1-nano' } });
    expect(server.calls).toHaveLength(1);
    expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_RESPONSE' } });
    expect(record.error?.message).toContain('neither');
    await judge.close();
  });

  it('the per-call timeout holds for every attempt', async () => {
    const { record } = await processWith(() => ({ content: GOOD, delayMs: 3000 }), {
      timeoutMs: 200,
      retry: { maxAttempts: 1 },
    });
    expect(record).toMatchObject({ status: 'error', error: { code: 'PROVIDER_TIMEOUT' } });
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
    // Image tokens: the first call's image, none for the text-only repair, the stronger model's image.
    expect(record.usage.image_tokens).toBe(
      openaiImageTokens(300, 200, 'gpt-4.1-mini') + openaiImageTokens(300, 200, 'gpt-4.1'),
    );
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
    expect(billedOf(null)).toBeUndefined();
    // Only objects can be marked; anything else is returned as it is.
    expect(markBilled('text', billed)).toBe('text');
    expect(markBilled(null, billed)).toBeNull();
    expect(billedOf('text')).toBeUndefined();
  });

  it('the failure says what was wrong, and that the answer was cut off when it was', () => {
    const billed = { usage: usage(1), model: 'm' };
    const message = (cutOff: string | undefined) => {
      try {
        readAnswerJson('openai', 'not json', billed, cutOff);
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(message(undefined)).toBe(
      `openai: the model's output is not valid JSON: no JSON value in 8 chars ("not json"…)`,
    );
    expect(message(' (cut off at max_tokens)')).toContain(
      'not valid JSON (cut off at max_tokens): no JSON value',
    );
  });

  it('extractStage: an answer that stays unreadable is BAD_RESPONSE for the input, not retryable', async () => {
    const server = await startCompatibleServer('never json', USAGE);
    servers.push(server);
    const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
    const image = {
      data: await solidJpeg(300, 200),
      format: 'jpeg' as const,
      width: 300,
      height: 200,
      sha256: 'a'.repeat(64),
    };
    const failure = await extractStage(provider, image, pattern, 'gpt-4.1-mini', 'r.jpg', {
      timeoutMs: 5000,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'BAD_RESPONSE', retryable: false, input: 'r.jpg' });
    expect(billedOf(failure)?.usage).toMatchObject({ input_tokens: 2000, output_tokens: 40 });
    await provider.close();
  });

  it('extractStage: an empty billed answer gets one more call, said in repair; usage adds both', async () => {
    const server = await startCompatibleServer((_c, n) => (n === 1 ? '' : GOOD), USAGE);
    servers.push(server);
    const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
    const image = {
      data: await solidJpeg(300, 200),
      format: 'jpeg' as const,
      width: 300,
      height: 200,
      sha256: 'a'.repeat(64),
    };
    const done = await extractStage(provider, image, pattern, 'gpt-4.1-mini', 'r.jpg', {
      timeoutMs: 5000,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    expect(done).toMatchObject({ attempts: 2, mismatch: undefined });
    expect(done.repair).toContain('the answer is empty');
    expect(done.usage).toEqual({
      input_tokens: 2000,
      output_tokens: 40,
      image_tokens: 2 * openaiImageTokens(300, 200, 'gpt-4.1-mini'),
      estimated: false,
    });
    await provider.close();
  });
});
