/**
 * OpenAI's 429 "Request too large for … on tokens per min (TPM): Limit N, Requested M" (type
 * `tokens`, code `rate_limit_exceeded`) is not pacing: no wait lets that request through.
 * It never pauses the flow nor counts as a rate limit (trial 10, finding 1: such images were
 * sent 10-14 times, each refusal paused every call for seconds, and they ended RATE_LIMITED).
 * When the image is what puts the request over, it is sent once more, smaller; when the rest
 * of the request alone is over, it fails at once, naming the limit and what was requested.
 * Real pipeline and OpenAI provider against a loopback server that counts a request's
 * tokens as OpenAI's rate limiter does; real corpus scans, sent concurrently.
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
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { startServer, type TestServer } from '../support/http.js';
import { corpus } from '../support/images.js';
import type { ChatCall } from '../support/openai-compatible.js';

const pattern = parsePattern(
  {
    name: 'simple',
    format: 'json',
    instructions: 'Vendor and total.',
    json_schema: { vendor_name: 'string', total: 'number' },
  },
  'over-tpm',
);
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
});

const counter = new OpenAIProvider({ apiKey: 'sk-test-0000' });

/**
 * What the server counts for one request (tokens), as OpenAI's rate limiter does: the text
 * (4 characters a token), each image at the model's image-token formula for its size, and
 * the output it may write (`max_tokens`).
 */
async function requested(call: ChatCall): Promise<number> {
  let tokens = call.body.max_tokens ?? 0;
  for (const message of call.body.messages) {
    const parts =
      typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    for (const part of parts as Array<{ type: string; text?: string; image_url?: { url: string } }>) {
      if (part.text !== undefined) tokens += Math.ceil(part.text.length / 4);
      const url = part.image_url?.url;
      if (url === undefined) continue;
      const { width = 0, height = 0 } = await sharp(
        Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'),
      ).metadata();
      tokens += counter.estimateImageTokens(width, height, 'gpt-4.1');
    }
  }
  return tokens;
}

/** The exact body OpenAI answers (reports: Aider-AI/aider#1880, TheR1D/shell_gpt#653). */
const tooLarge = (limit: number, asked: number) => ({
  error: {
    message: `Request too large for gpt-4.1 in organization org-test on tokens per min (TPM): Limit ${limit}, Requested ${asked}. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`,
    type: 'tokens',
    param: null,
    code: 'rate_limit_exceeded',
  },
});

const BIG = 'invoice1.jpg';
/** Over the scan's tokens as sent (843 with gpt-4.1: 4 tiles of 512 px), not at half its long edge; over every other request. */
const LIMIT_SHRINK = 700;
/** Under the text and output of any request alone. */
const LIMIT_FAIL = 100;
const SMALL = ['car-plate3.jpg', 'vin5.jpg', 'resume3.jpg', 'car-plate5.jpg'];

async function run(limit: number) {
  const sizes: Array<{ asked: number; refused: boolean }> = [];
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const asked = await requested({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      const refused = asked > limit;
      sizes.push({ asked, refused });
      res.setHeader('content-type', 'application/json');
      if (refused) {
        res.writeHead(429, {
          'x-ratelimit-limit-tokens': String(limit),
          'x-ratelimit-remaining-tokens': String(limit),
          'x-ratelimit-reset-tokens': '0s',
        });
        res.end(JSON.stringify(tooLarge(limit, asked)));
        return;
      }
      const content = '{"vendor_name":"ACME","total":12.5}';
      res.end(
        JSON.stringify({
          model: 'gpt-4.1',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: asked, completion_tokens: 20 },
        }),
      );
    });
  });
  servers.push(server);
  const attempts: ProviderAttemptEvent[] = [];
  const retries: RetryEvent[] = [];
  const stops = [subscribe('attempt', (e) => attempts.push(e)), subscribe('retry', (e) => retries.push(e))];
  const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: `${server.url}/v1` });
  const pipeline = await createPipeline({
    pattern,
    provider,
    model: 'gpt-4.1',
    profile: 'none',
    cache: { spec: 'off' },
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
  const records = await Promise.all(
    [BIG, ...SMALL].map(async (name) => pipeline.process(await readFile(corpus(name)), { label: name })),
  );
  await pipeline.close();
  await provider.close();
  for (const stop of stops) stop();
  return { records, sizes, attempts, retries, server };
}

describe('a request alone over the per-minute token budget', () => {
  it('is sent once more smaller when the image puts it over, and pauses no one', async () => {
    const { records, sizes, attempts, retries } = await run(LIMIT_SHRINK);
    const [big, ...small] = records;
    expect(big).toMatchObject({ status: 'ok', attempts: 2 });
    expect(big!.cascade.resized).toContain('tokens per minute');
    expect(big!.rate_limited ?? { count: 0 }).toMatchObject({ count: 0 });
    for (const r of small) expect(r).toMatchObject({ status: 'ok', attempts: 1 });
    // One refusal, one smaller resend, one call per other image: nothing sent again as is.
    expect(sizes.filter((s) => s.refused)).toHaveLength(1);
    expect(sizes).toHaveLength(records.length + 1);
    // Not a rate limit: no throttled retry (the flow's pause), no 429 in the run's counts.
    expect(retries.filter((r) => r.throttled)).toEqual([]);
    expect(attempts.filter(refusedForRate)).toEqual([]);
  });

  it('fails at once, naming the limit, what was requested and the next step, when the rest alone is over', async () => {
    const { records, sizes, retries, attempts } = await run(LIMIT_FAIL);
    // Every request is over by more than its image's tokens: one call each, never sent again.
    expect(sizes).toHaveLength(records.length);
    for (const record of records) {
      expect(record).toMatchObject({ status: 'error', attempts: 1, error: { code: 'IMAGE_TOO_LARGE' } });
      expect(record.rate_limited ?? { count: 0 }).toMatchObject({ count: 0 });
    }
    const big = records[0]!;
    const asked = sizes.find((s) => s.asked > 800)!.asked;
    expect(big.input).toBe(BIG);
    expect(big.error?.message).toContain(
      `the request needs ${asked} tokens, over the account's limit of ${LIMIT_FAIL} tokens per minute; no wait lets it through`,
    );
    expect(big.error?.message).toContain('--max-image-tokens');
    expect(retries.filter((r) => r.throttled)).toEqual([]);
    expect(attempts.filter(refusedForRate)).toEqual([]);
  });
});
