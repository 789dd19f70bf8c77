/**
 * Anthropic's 429 "This request would exceed the rate limit for your organization (…) of N
 * input tokens per minute" reads the same whether earlier requests used the minute up or this
 * request alone is over N (trial of issue 10: such a request was waited out as a rate limit,
 * over and over). The request's own estimate decides: over N, it is IMAGE_TOO_LARGE like
 * OpenAI's "Request too large … on tokens per min" (sent once more smaller when the image is
 * what puts it over, else failed at once), never a throttle; under N, it stays a rate limit.
 * Real pipeline and Anthropic provider against a loopback server that counts a request's
 * input tokens as Anthropic documents (images w×h/750, text about 4 characters a token).
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ProviderAttemptEvent,
  type RetryEvent,
  refusedForRate,
  subscribe,
} from '../../src/observe/events.js';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { anthropicImageTokens } from '../../src/providers/tokens.js';
import { startServer, type TestServer } from '../support/http.js';
import { corpus } from '../support/images.js';

const pattern = parsePattern(
  {
    name: 'simple',
    format: 'json',
    instructions: 'Vendor and total.',
    json_schema: { vendor_name: 'string', total: 'number' },
  },
  'over-itpm',
);
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
});

interface MessagesBody {
  system?: string;
  messages: Array<{ content: Array<{ type: string; text?: string; source?: { data: string } }> }>;
  tools: Array<{ name: string; description: string; input_schema: unknown }>;
}

/** Input tokens as Anthropic counts them: each image w×h/750, the text at 4 characters a token. */
async function inputTokens(body: MessagesBody): Promise<number> {
  let text =
    (body.system ?? '') + body.tools.map((t) => t.description + JSON.stringify(t.input_schema)).join('');
  let images = 0;
  for (const block of body.messages.flatMap((m) => m.content)) {
    if (block.text !== undefined) text += block.text;
    if (block.source === undefined) continue;
    const { width = 0, height = 0 } = await sharp(Buffer.from(block.source.data, 'base64')).metadata();
    images += anthropicImageTokens(width, height);
  }
  return images + Math.ceil(text.length / 4);
}

/** Anthropic's exact words (reports: OpenHands/OpenHands#9259, BoltAI/BoltAI#338). */
const wouldExceed = (limit: number) => ({
  type: 'error',
  error: {
    type: 'rate_limit_error',
    message: `This request would exceed the rate limit for your organization (0dccdde6-f924-4f1b-bb3b-92ef846e0a5b) of ${limit.toLocaleString('en-US')} input tokens per minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.`,
  },
});

/**
 * `refuse(asked, n)`: the limit to name in a 429 for the n-th call that counts `asked` input
 * tokens, or undefined to answer it.
 */
async function run(
  refuse: (asked: number, n: number) => number | undefined,
  retry: { maxTotalWaitMs?: number } = {},
) {
  const asked: Array<{ tokens: number; refused: boolean }> = [];
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MessagesBody;
      const tokens = await inputTokens(body);
      const limit = refuse(tokens, asked.length + 1);
      asked.push({ tokens, refused: limit !== undefined });
      res.setHeader('content-type', 'application/json');
      if (limit !== undefined) {
        res.writeHead(429, { 'retry-after': '1' });
        res.end(JSON.stringify(wouldExceed(limit)));
        return;
      }
      res.end(
        JSON.stringify({
          model: 'claude-sonnet-4-5',
          content: [
            { type: 'tool_use', name: body.tools[0]!.name, input: { vendor_name: 'ACME', total: 12.5 } },
          ],
          stop_reason: 'tool_use',
          usage: { input_tokens: tokens, output_tokens: 20 },
        }),
      );
    });
  });
  servers.push(server);
  const attempts: ProviderAttemptEvent[] = [];
  const retries: RetryEvent[] = [];
  const stops = [subscribe('attempt', (e) => attempts.push(e)), subscribe('retry', (e) => retries.push(e))];
  const provider = new AnthropicProvider({ apiKey: 'sk-ant-test-0000', baseUrl: server.url });
  const pipeline = await createPipeline({
    pattern,
    provider,
    model: 'claude-sonnet-4-5',
    profile: 'none',
    cache: { spec: 'off' },
    retry: { baseDelayMs: 1, maxDelayMs: 2, ...retry },
  });
  const record = await pipeline.process(await readFile(corpus('invoice1.jpg')), { label: 'invoice1.jpg' });
  await pipeline.close();
  await provider.close();
  for (const stop of stops) stop();
  return { record, asked, attempts, retries };
}

describe("Anthropic's 429 '… of N input tokens per minute'", () => {
  it('for a request alone over N: sent once more smaller when the image puts it over, pausing no one', async () => {
    const full = (await run(() => undefined)).asked[0]!.tokens;
    // Over the request at its size, not at half its long edge (a quarter of the image's tokens).
    const limit = full - 50;
    const { record, asked, attempts, retries } = await run((tokens) => (tokens > limit ? limit : undefined));
    expect(asked.map((a) => a.refused)).toEqual([true, false]);
    expect(record).toMatchObject({ status: 'ok', attempts: 2 });
    expect(record.cascade.resized).toContain(`over the account's limit of ${limit} input tokens per minute`);
    expect(record.rate_limited ?? { count: 0 }).toMatchObject({ count: 0 });
    expect(retries.filter((r) => r.throttled)).toEqual([]);
    expect(attempts.filter(refusedForRate)).toEqual([]);
  });

  it('for a request whose text alone is over N: IMAGE_TOO_LARGE at once, one call, naming the estimate and N', async () => {
    const { record, asked, retries } = await run(() => 100);
    expect(asked).toHaveLength(1);
    expect(record).toMatchObject({ status: 'error', attempts: 1, error: { code: 'IMAGE_TOO_LARGE' } });
    expect(record.error?.message).toMatch(
      /the request needs about \d+ input tokens \(estimated\), over the account's limit of 100 input tokens per minute; no wait lets it through/,
    );
    // --detail is OpenAI's: an Anthropic run is never told to use it.
    expect(record.error?.message).not.toContain('--detail');
    expect(record.error?.message).toContain('--max-image-tokens');
    expect(record.rate_limited ?? { count: 0 }).toMatchObject({ count: 0 });
    expect(retries.filter((r) => r.throttled)).toEqual([]);
  });

  it('for a minute used up by earlier requests (the request under N): a rate limit, waited out, then read', async () => {
    const { record, asked, retries } = await run((tokens, n) => (n === 1 ? tokens * 10 : undefined));
    expect(asked.map((a) => a.refused)).toEqual([true, false]);
    expect(record).toMatchObject({ status: 'ok', attempts: 1, rate_limited: { count: 1 } });
    expect(record.cascade).not.toHaveProperty('resized');
    expect(retries.filter((r) => r.throttled)).toHaveLength(1);
  });

  it('resent smaller, then rate limited until the budget is spent: the error record says it was resized, and counts every call', async () => {
    const full = (await run(() => undefined)).asked[0]!.tokens;
    const limit = full - 50;
    // The first call alone is over N (size); the smaller resend meets a used-up minute (under N) every time.
    const { record, asked } = await run((tokens) => (tokens > limit ? limit : tokens * 10), {
      maxTotalWaitMs: 1500,
    });
    expect(asked[0]!.refused).toBe(true);
    expect(record).toMatchObject({ status: 'error', error: { code: 'RATE_LIMITED' } });
    expect(record.cascade.resized).toContain(`over the account's limit of ${limit} input tokens per minute`);
    // Every call is an attempt (not refused by a throttle) or a rate-limited refusal.
    expect(record.attempts + record.rate_limited.count).toBe(asked.length);
  });
});
