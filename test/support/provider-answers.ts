/**
 * Loopback servers answering as the Anthropic, OpenAI-compatible and Gemini APIs do, and
 * one record through the real pipeline against them: for tests of how answers are read.
 */

import { afterAll, afterEach } from 'vitest';
import type { Pattern } from '../../src/patterns/types.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { Provider } from '../../src/providers/spec.js';
import { startServer, type TestServer } from './http.js';
import { solidJpeg } from './simulator-fixtures.js';

export type Kind = 'anthropic' | 'openai' | 'gemini';

export const MODELS: Record<Kind, string> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-4.1-mini',
  gemini: 'gemini-2.5-flash',
};

/** A body sent as these exact bytes, not as JSON (a broken or truncated answer). */
export class RawBody {
  constructor(readonly text: string) {}
}

/** A loopback server answering every request with `body`, pushed on `servers` (the caller closes them); `calls` counts requests. */
export async function answering(servers: TestServer[], body: unknown) {
  const state = { calls: 0 };
  const server = await startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.calls++;
      res.setHeader('content-type', 'application/json');
      res.end(body instanceof RawBody ? body.text : JSON.stringify(body));
    });
  });
  servers.push(server);
  return { url: server.url, state };
}

export const anthropicBody = (content: unknown[]) => ({
  model: 'claude-sonnet-4-5',
  content,
  stop_reason: 'tool_use',
  usage: { input_tokens: 1500, output_tokens: 30 },
});
export const toolUse = (input: unknown, name = 'simple') =>
  anthropicBody([{ type: 'tool_use', id: 't1', name, input }]);
export const openaiBody = (message: Record<string, unknown>) => ({
  model: 'gpt-4.1-mini',
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1000, completion_tokens: 20 },
});
export const geminiBody = (text: string) => ({
  candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 20, totalTokenCount: 1020 },
  modelVersion: 'gemini-2.5-flash',
});

export function providerAt(kind: Kind, url: string): Provider {
  if (kind === 'anthropic') return new AnthropicProvider({ apiKey: 'sk-ant-test-000000', baseUrl: url });
  if (kind === 'gemini') return new GeminiProvider({ apiKey: 'gm-test-000000000', baseUrl: url });
  return new OpenAIProvider({ apiKey: 'sk-test-000000000000', baseUrl: `${url}/v1` });
}

/** One record of `pattern` through the real pipeline against a server answering `body`, and the calls it made. */
export async function recordFor(servers: TestServer[], pattern: Pattern, kind: Kind, body: unknown) {
  const server = await answering(servers, body);
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

/**
 * For a test file: its servers closed after each test and the agents after all, and
 * `recordFor(kind, body)` for `pattern`.
 */
export function answerServers(pattern: Pattern) {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  afterAll(async () => {
    await closeAllAgents();
  });
  return { recordFor: (kind: Kind, body: unknown) => recordFor(servers, pattern, kind, body) };
}
