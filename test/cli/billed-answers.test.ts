/**
 * A model's answer is parsed the way real models write it, and every billed call is
 * counted (issue 11 §2): real CLI runs against OpenAI- and Anthropic-compatible servers
 * on loopback, as a new user would point visionpipe at vLLM, Ollama or a gateway.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { billedOf } from '../../src/providers/billed.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { costUsd } from '../../src/providers/pricing.js';
import type { Summary } from '../../src/runs/summary.js';
import { runCli } from '../support/cli.js';
import { startServer, type TestServer } from '../support/http.js';
import { tempDir } from '../support/images.js';
import { type ChatCall, startCompatibleServer, writeSimplePattern } from '../support/openai-compatible.js';
import { asProviderImage, invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

const ANSWER = '{"vendor_name":"ACME","total":12.5}';
const USAGE = { prompt_tokens: 1000, completion_tokens: 20 };
let folder: string;
let pattern: string;
let receipt: string;
const servers: TestServer[] = [];

beforeAll(async () => {
  folder = await tempDir('visionpipe-billed-');
  pattern = await writeSimplePattern(folder);
  receipt = path.join(folder, 'receipt.png');
  await sharp({ create: { width: 700, height: 300, channels: 3, background: '#ffffff' } })
    .png()
    .toFile(receipt);
});

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
});

/** One `visionpipe run` of the receipt against `baseUrl`: its record and summary. */
async function runAt(baseUrl: string, model = 'gpt-4.1-mini') {
  const dir = await tempDir('visionpipe-billed-run-');
  const out = path.join(dir, 'out.jsonl');
  const result = await runCli(
    [
      ...['run', receipt, '-p', pattern, '--provider', 'openai', '--model', model, '--base-url', baseUrl],
      ...['-o', out, '--cache', 'off', '--state-dir', dir, '--no-progress', '--json'],
    ],
    { env: { OPENAI_API_KEY: 'sk-test-000000000000' } },
  );
  expect(result.code).toBe(0);
  const record = JSON.parse((await readFile(out, 'utf8')).trim()) as RunRecord;
  return { record, summary: JSON.parse(result.stdout) as Summary };
}

async function runAgainst(content: string | ((call: ChatCall, n: number) => string), model = 'gpt-4.1-mini') {
  const server = await startCompatibleServer(content, USAGE);
  servers.push(server);
  return { ...(await runAt(server.baseUrl, model)), calls: server.calls };
}

/** A loopback server answering every request with `body`. */
async function jsonServer(body: unknown): Promise<TestServer> {
  const server = await startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    });
  });
  servers.push(server);
  return server;
}

const price = (calls: number) =>
  costUsd('openai', 'gpt-4.1-mini', {
    input_tokens: USAGE.prompt_tokens * calls,
    output_tokens: USAGE.completion_tokens * calls,
    image_tokens: 0,
    estimated: false,
  });

/** The record of the answer read in one billed call. */
const okInOneCall = () => ({
  status: 'ok',
  output: { vendor_name: 'ACME', total: 12.5 },
  attempts: 1,
  usage: { input_tokens: 1000, output_tokens: 20 },
  cost_usd: price(1),
});

describe('answers are read the way models write them', () => {
  it.each([
    ['fenced in ```json', `\`\`\`json\n${ANSWER}\n\`\`\``],
    ['followed by a sentence', `${ANSWER}\nLet me know if you need anything else.`],
    ['after a <think> block', `<think>Reading the receipt…</think>\n${ANSWER}`],
  ])('JSON %s: ok in one billed call, usage and cost counted', async (_name, content) => {
    const { record, summary, calls } = await runAgainst(content);
    expect(calls).toHaveLength(1);
    expect(record).toMatchObject({ ...okInOneCall(), cascade: { repair: null } });
    expect(summary.tokens.total).toBe(1020);
    expect(summary.bytes.sent).toBeGreaterThan(0);
  });
});

describe('an unreadable answer is repaired once, never retried blindly, and every call is counted', () => {
  it('not JSON, then JSON on the one repair call: ok, two calls billed, the record says why', async () => {
    const { record, summary, calls } = await runAgainst((_call, n) =>
      n === 1 ? 'The vendor is ACME and the total is 12.50.' : ANSWER,
    );
    expect(calls).toHaveLength(2);
    // The repair sends the earlier answer as text, not the image again.
    const repairCall = JSON.stringify(calls[1]!.body.messages);
    expect(repairCall).not.toContain('image_url');
    expect(repairCall).toContain('The vendor is ACME and the total is 12.50.');
    expect(record).toMatchObject({
      status: 'ok',
      output: { vendor_name: 'ACME', total: 12.5 },
      attempts: 2,
      usage: { input_tokens: 2000, output_tokens: 40 },
      cost_usd: price(2),
    });
    expect(record.cascade.repair).toContain('not valid JSON');
    expect(summary).toMatchObject({ ok: 1, tokens: { total: 2040 }, cost_usd: price(2) });
  });

  it('never JSON: BAD_RESPONSE after exactly one repair; usage, cost and image kept on the error record and in the summary', async () => {
    const { record, summary, calls } = await runAgainst('Sorry, I cannot help with that.');
    expect(calls).toHaveLength(2);
    expect(record).toMatchObject({
      status: 'error',
      error: { code: 'BAD_RESPONSE' },
      attempts: 2,
      usage: { input_tokens: 2000, output_tokens: 40 },
      cost_usd: price(2),
    });
    expect(record.error?.message).toContain('one repair attempt');
    expect(record.image).toMatchObject({ width: 700, height: 300 });
    expect(record.image!.bytes).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      errors: 1,
      tokens: { input: 2000, output: 40, total: 2040 },
      cost_usd: price(2),
      bytes: { sent: record.image!.bytes, original: record.image!.original_bytes },
    });
  });

  it('two different JSON values are ambiguous: one repair, not five retries', async () => {
    // Only a repair (no image: a new request, not a retry of the same one) gets a readable answer.
    const { record, calls } = await runAgainst((call) =>
      JSON.stringify(call.body.messages).includes('image_url')
        ? '{"total": 1} or perhaps {"total": 2}'
        : ANSWER,
    );
    expect(calls).toHaveLength(2);
    expect(record.status).toBe('ok');
  });

  it('cost_usd is null only when the price is unknown: a model with no price, and a gateway naming a priced model its own way', async () => {
    const unknown = await runAgainst(ANSWER, 'my-llava-13b');
    expect(unknown.record).toMatchObject({ status: 'ok', cost_usd: null });
    expect(unknown.summary.cost_unknown).toBe(1);
    // OpenRouter-style model names in the answer: the price asked for still holds.
    const gateway = await jsonServer({
      model: 'openai/gpt-4.1-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
      usage: USAGE,
    });
    const { record } = await runAt(`${gateway.url}/v1`);
    expect(record).toMatchObject({ status: 'ok', model: 'openai/gpt-4.1-mini', cost_usd: price(1) });
  });
});

describe('Anthropic answers as gateways and models send them', () => {
  async function anthropicAnswering(content: unknown[]) {
    const server = await jsonServer({
      model: 'claude-sonnet-4-5',
      content,
      stop_reason: 'tool_use',
      usage: { input_tokens: 1500, output_tokens: 30 },
    });
    return new AnthropicProvider({ apiKey: 'sk-ant-test-000000', baseUrl: server.url });
  }

  it.each([
    [
      'tool_use.input sent as a JSON string',
      [{ type: 'tool_use', id: 't1', name: 'Invoice_basic', input: '{"total": 12.5}' }],
    ],
    [
      'tool_use.input as a fenced JSON string',
      [{ type: 'tool_use', id: 't1', name: 'Invoice_basic', input: '```json\n{"total": 12.5}\n```' }],
    ],
    ['a text answer instead of the tool call', [{ type: 'text', text: 'Here you go: {"total": 12.5}' }]],
  ])('%s', async (_name, content) => {
    const provider = await anthropicAnswering(content);
    const image = await asProviderImage(await solidJpeg(200, 100));
    const result = await provider.extract(
      { image, pattern: invoicePattern, model: 'claude-sonnet-4-5' },
      AbortSignal.timeout(10_000),
    );
    expect(result.output).toEqual({ total: 12.5 });
    expect(result.usage).toMatchObject({ input_tokens: 1500, output_tokens: 30 });
    await provider.close();
  });
});

describe('answers that will repeat get at most one more call, for every provider (issue 11 trial)', () => {
  let lastSummary: Summary | undefined;
  /** A loopback server answering `answer(n, body)` to call n, counting the calls. */
  async function countingServer(answer: (n: number, body: string) => unknown) {
    const bodies: string[] = [];
    const server = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        bodies.push(body);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer(bodies.length, body)));
      });
    });
    servers.push(server);
    return { server, bodies };
  }

  async function runOn(provider: string, model: string, baseUrl: string) {
    const dir = await tempDir('visionpipe-repeat-run-');
    const out = path.join(dir, 'out.jsonl');
    const env = {
      OPENAI_API_KEY: 'sk-test-0000000000',
      ANTHROPIC_API_KEY: 'sk-ant-test-0000',
      GEMINI_API_KEY: 'g-test-0000',
    };
    const result = await runCli(
      [
        ...['run', receipt, '-p', pattern, '--provider', provider, '--model', model, '--base-url', baseUrl],
        ...['-o', out, '--cache', 'off', '--state-dir', dir, '--no-progress', '--json'],
      ],
      { env },
    );
    expect([0, 1], result.stderr).toContain(result.code);
    lastSummary = JSON.parse(result.stdout) as Summary;
    return JSON.parse((await readFile(out, 'utf8')).trim()) as RunRecord;
  }

  const openaiEmpty = {
    model: 'gpt-4.1-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'stop' }],
    usage: USAGE,
  };
  const anthropicWith = (content: unknown[]) => ({
    model: 'claude-sonnet-4-5',
    content,
    stop_reason: 'end_turn',
    usage: { input_tokens: 1000, output_tokens: 20 },
  });
  const geminiEmpty = {
    candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP' }],
    usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 20 },
  };

  it.each([
    ['openai', 'gpt-4.1-mini', (url: string) => `${url}/v1`, openaiEmpty],
    ['anthropic', 'claude-sonnet-4-5', (url: string) => url, anthropicWith([])],
    ['gemini', 'gemini-2.5-flash', (url: string) => url, geminiEmpty],
  ])(
    '%s: an empty answer (billed) is asked once more, not five times; both calls counted',
    async (provider, model, base, empty) => {
      const { server, bodies } = await countingServer(() => empty);
      const record = await runOn(provider, model, base(server.url));
      expect(bodies).toHaveLength(2);
      expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_RESPONSE' }, attempts: 2 });
      expect(record.error?.message).toContain('empty');
      expect(record.usage.input_tokens).toBe(2000);
    },
  );

  it('openai: an empty answer, then the answer on the one more call: ok, and cascade.repair says why', async () => {
    const { server, bodies } = await countingServer((n) =>
      n === 1
        ? openaiEmpty
        : {
            ...openaiEmpty,
            choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }],
          },
    );
    const record = await runOn('openai', 'gpt-4.1-mini', `${server.url}/v1`);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toContain('image_url'); // nothing to repair from: the request itself again
    expect(record).toMatchObject({ status: 'ok', output: { vendor_name: 'ACME', total: 12.5 }, attempts: 2 });
    expect(record.cascade.repair).toContain('empty');
    expect(record.usage.input_tokens).toBe(2000);
  });

  it("anthropic: a tool_use under another tool's name gets one text repair from its input, not five retries", async () => {
    const wrongTool = anthropicWith([
      { type: 'tool_use', id: 't1', name: 'other_tool', input: { vendor_name: 'ACME', total: 12.5 } },
    ]);
    const { server, bodies } = await countingServer(() => wrongTool);
    const record = await runOn('anthropic', 'claude-sonnet-4-5', server.url);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).not.toContain('"image"'); // the repair is text only
    expect(bodies[1]).toContain('ACME');
    expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_RESPONSE' }, attempts: 2 });
    expect(record.error?.message).toContain('other_tool');
  });
  const openaiMessage = (message: Record<string, unknown>, finish = 'stop') => ({
    model: 'gpt-4.1-mini',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
    usage: USAGE,
  });

  it.each([
    [
      'content as a list of text parts (Mistral/Magistral gateways)',
      { content: [{ type: 'text', text: ANSWER }] },
    ],
    [
      'content null, the answer in tool_calls[0].function.arguments (vLLM/Ollama)',
      {
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'extract', arguments: ANSWER } }],
      },
    ],
  ])('openai-compatible: %s is read as the answer, one call, billed', async (_name, message) => {
    const { server, bodies } = await countingServer(() => openaiMessage(message));
    const record = await runOn('openai', 'gpt-4.1-mini', `${server.url}/v1`);
    expect(bodies).toHaveLength(1);
    expect(record).toMatchObject(okInOneCall());
    expect(lastSummary?.tokens.total).toBe(1020);
    expect(lastSummary?.cost_usd).toBeCloseTo(price(1)!, 10);
  });

  it('gemini: no content.parts (thinking used the budget, MAX_TOKENS): one call, cut off said, usage and cost counted', async () => {
    const { server, bodies } = await countingServer(() => ({
      candidates: [{ content: { role: 'model' }, finishReason: 'MAX_TOKENS' }],
      usageMetadata: { promptTokenCount: 800, thoughtsTokenCount: 200 },
      modelVersion: 'gemini-2.5-flash',
    }));
    const record = await runOn('gemini', 'gemini-2.5-flash', server.url);
    expect(bodies).toHaveLength(1);
    expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_RESPONSE' }, attempts: 1 });
    expect(record.error?.message).toMatch(/cut off at the output limit/);
    expect(record.usage).toMatchObject({ input_tokens: 800, output_tokens: 200 });
    const cost = costUsd('gemini', 'gemini-2.5-flash', record.usage);
    expect(cost).toBeGreaterThan(0);
    expect(record.cost_usd).toBeCloseTo(cost!, 10);
    expect(lastSummary?.tokens.total).toBe(1000);
    expect(lastSummary?.cost_usd).toBeCloseTo(cost!, 10);
  });

  it.each([
    [
      'openai',
      'gpt-4.1-mini',
      (url: string) => `${url}/v1`,
      { model: 'gpt-4.1-mini', choices: [{ message: 42 }], usage: USAGE },
      1020,
    ],
    [
      'anthropic',
      'claude-sonnet-4-5',
      (url: string) => url,
      { model: 'claude-sonnet-4-5', content: 'x', usage: { input_tokens: 1000, output_tokens: 20 } },
      1020,
    ],
    [
      'gemini',
      'gemini-2.5-flash',
      (url: string) => url,
      { candidates: 'x', usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 20 } },
      1020,
    ],
  ])(
    '%s: an envelope the parser refuses after billing: its usage (image tokens too) counted, not sent again (said)',
    async (provider, model, base, body, tokens) => {
      const { server, bodies } = await countingServer(() => body);
      const record = await runOn(provider, model, base(server.url));
      // The same request gets the same shape: no retry, no repeat with the image.
      expect(bodies).toHaveLength(1);
      expect(record).toMatchObject({ status: 'error', error: { code: 'BAD_RESPONSE' }, attempts: 1 });
      expect(record.error?.message).toMatch(/unexpected.*not sent again/);
      expect(record.usage.input_tokens + record.usage.output_tokens).toBe(tokens);
      // The image was billed inside input_tokens: the record says how much of it.
      expect(record.usage.image_tokens).toBeGreaterThan(0);
      expect(record.usage.image_tokens).toBeLessThanOrEqual(record.usage.input_tokens);
      expect(record.cost_usd).toBeGreaterThan(0);
      expect(lastSummary?.tokens.total).toBe(tokens);
      expect(lastSummary?.cost_usd).toBeCloseTo(record.cost_usd!, 10);
    },
  );
});

describe('a triage answer that is no verdict is billed (Anthropic, Gemini)', () => {
  it.each([
    [
      'anthropic',
      {
        model: 'claude-haiku-4-5',
        content: [{ type: 'text', text: '{"relevant":true}' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 300, output_tokens: 7 },
      },
    ],
    [
      'gemini',
      {
        candidates: [
          { content: { role: 'model', parts: [{ text: '{"relevant":true}' }] }, finishReason: 'STOP' },
        ],
        usageMetadata: { promptTokenCount: 300, candidatesTokenCount: 7 },
      },
    ],
  ])('%s: BAD_RESPONSE marked billed with its usage', async (id, body) => {
    const server = await jsonServer(body);
    const provider =
      id === 'anthropic'
        ? new AnthropicProvider({ apiKey: 'sk-ant-test-000000', baseUrl: server.url })
        : new GeminiProvider({ apiKey: 'g-test-000000', baseUrl: server.url });
    const image = await asProviderImage(await solidJpeg(200, 100));
    const failure = await provider
      .ask(
        { image, question: 'Is this a receipt?', pattern: invoicePattern, model: '' },
        AbortSignal.timeout(10_000),
      )
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toMatchObject({ code: 'BAD_RESPONSE' });
    expect(billedOf(failure)?.usage).toMatchObject({ input_tokens: 300, output_tokens: 7 });
    await provider.close();
  });
});
