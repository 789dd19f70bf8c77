/**
 * Tool arguments wrapped in one extra key (issue 11 trial): some models and proxies send
 * Claude's `tool_use.input` as `{"parameter": {…}}`, or an OpenAI-compatible answer (its
 * content or `tool_calls` arguments) and a Gemini answer as `{"arguments": {…}}`. One level
 * is read inside when the value conforms and the key is not a pattern field; anything
 * else stays SCHEMA_MISMATCH. A model calling another tool is told apart by name. Real
 * providers through the real pipeline against loopback servers answering those shapes.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { Provider } from '../../src/providers/spec.js';
import { startServer, type TestServer } from '../support/http.js';
import { vendorTotalPattern } from '../support/patterns.js';
import { solidJpeg } from '../support/simulator-fixtures.js';

const pattern = vendorTotalPattern('simple');
const ANSWER = { vendor_name: 'ACME', total: 12.5 };
const servers: TestServer[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await closeAllAgents();
});

/** A loopback server answering every request with `body`; `calls` counts them. */
async function answering(body: unknown) {
  const state = { calls: 0 };
  const server = await startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.calls++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    });
  });
  servers.push(server);
  return { url: server.url, state };
}

const anthropicBody = (content: unknown[]) => ({
  model: 'claude-sonnet-4-5',
  content,
  stop_reason: 'tool_use',
  usage: { input_tokens: 1500, output_tokens: 30 },
});
const toolUse = (input: unknown, name = 'simple') =>
  anthropicBody([{ type: 'tool_use', id: 't1', name, input }]);
const openaiBody = (message: Record<string, unknown>) => ({
  model: 'gpt-4.1-mini',
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1000, completion_tokens: 20 },
});
const geminiBody = (text: string) => ({
  candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 20, totalTokenCount: 1020 },
  modelVersion: 'gemini-2.5-flash',
});

type Kind = 'anthropic' | 'openai' | 'gemini';
const MODELS: Record<Kind, string> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-4.1-mini',
  gemini: 'gemini-2.5-flash',
};

function providerAt(kind: Kind, url: string): Provider {
  if (kind === 'anthropic') return new AnthropicProvider({ apiKey: 'sk-ant-test-000000', baseUrl: url });
  if (kind === 'gemini') return new GeminiProvider({ apiKey: 'gm-test-000000000', baseUrl: url });
  return new OpenAIProvider({ apiKey: 'sk-test-000000000000', baseUrl: `${url}/v1` });
}

async function recordFor(kind: Kind, body: unknown) {
  const server = await answering(body);
  const provider = providerAt(kind, server.url);
  const pipeline = await createPipeline({ pattern, provider, model: MODELS[kind], cache: { spec: 'off' } });
  try {
    const record = await pipeline.process({ bytes: await solidJpeg(300, 200), name: 'receipt.jpg' });
    return { record, calls: server.state.calls };
  } finally {
    await pipeline.close();
    await provider.close();
  }
}

describe('one wrapping key around the answer is read inside', () => {
  it.each<[string, Kind, unknown]>([
    ['anthropic tool_use.input {"parameter": {…}}', 'anthropic', toolUse({ parameter: ANSWER })],
    [
      'anthropic tool_use.input {"input": {…}} as a JSON string',
      'anthropic',
      toolUse(JSON.stringify({ input: ANSWER })),
    ],
    [
      'openai content {"arguments": {…}}',
      'openai',
      openaiBody({ content: JSON.stringify({ arguments: ANSWER }) }),
    ],
    [
      'openai tool_calls arguments {"parameter": {…}}',
      'openai',
      openaiBody({
        content: null,
        tool_calls: [
          {
            id: 'c1',
            type: 'function',
            function: { name: 'simple', arguments: JSON.stringify({ parameter: ANSWER }) },
          },
        ],
      }),
    ],
    ['gemini text {"arguments": {…}}', 'gemini', geminiBody(JSON.stringify({ arguments: ANSWER }))],
  ])('%s: ok, the inner value is the output, one call', async (_name, kind, body) => {
    const { record, calls } = await recordFor(kind, body);
    expect(record.error).toBeNull();
    expect(record).toMatchObject({ status: 'ok', output: ANSWER, attempts: 1 });
    expect(calls).toBe(1);
  });
});

describe('what is not one conforming wrapper stays a SCHEMA_MISMATCH', () => {
  it.each<[string, unknown]>([
    ['the wrapper key is a field of the pattern', { vendor_name: ANSWER }],
    ['the wrapped value does not conform', { parameter: { vendor_name: 'ACME', total: 'twelve' } }],
    ['two levels of wrapping', { parameter: { input: ANSWER } }],
    ['a wrapper beside another key', { parameter: ANSWER, note: 'x' }],
  ])('%s', async (_name, input) => {
    const { record } = await recordFor('anthropic', toolUse(input));
    expect(record).toMatchObject({ status: 'error', error: { code: 'SCHEMA_MISMATCH' } });
  });
});

describe('a model that calls another tool', () => {
  it('the error names the tool expected and the tool called, not "not JSON"', async () => {
    const { record } = await recordFor('anthropic', toolUse(ANSWER, 'record_answer'));
    expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_RESPONSE' } });
    expect(record.error?.message).toContain('expected "simple", received "record_answer"');
    expect(record.error?.message).not.toContain('not JSON');
  });
});
