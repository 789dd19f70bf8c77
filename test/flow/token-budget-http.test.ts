/**
 * A token budget holds admission over real HTTP (issue 10): a server on 127.0.0.1 that
 * limits input tokens the way Anthropic does (a bucket refilled continuously, the
 * `anthropic-ratelimit-input-tokens-*` headers on every answer, a 429 with Retry-After when
 * a call's tokens do not fit), its "minute" scaled to 3 s. The request budget never runs
 * low; only the token headers can keep the pipeline's calls out of the 429s.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openCache } from '../../src/cache/open-cache.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

const open: Server[] = [];

afterEach(async () => {
  for (const server of open.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await closeAllAgents();
});

/** Every call counts 1 300 input tokens (a 900 × 900 image and the prompt, as the trial's server counted); the bucket holds `limit` and refills it every `periodMs`. */
async function itpmServer(limit: number, periodMs: number) {
  const counted = 1300;
  let level = limit;
  let last = Date.now();
  let refused = 0;
  let accepted = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const tool = (JSON.parse(Buffer.concat(chunks).toString()) as { tools?: Array<{ name: string }> })
      .tools?.[0]?.name;
    const now = Date.now();
    level = Math.min(limit, level + ((now - last) * limit) / periodMs);
    last = now;
    const fits = level >= counted;
    if (fits) level -= counted;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-ratelimit-requests-limit': '1000',
      'anthropic-ratelimit-requests-remaining': '999',
      'anthropic-ratelimit-requests-reset': new Date(now).toISOString(),
      'anthropic-ratelimit-input-tokens-limit': String(limit),
      'anthropic-ratelimit-input-tokens-remaining': String(Math.floor(level)),
      'anthropic-ratelimit-input-tokens-reset': new Date(
        now + ((limit - level) * periodMs) / limit,
      ).toISOString(),
    };
    if (!fits) {
      refused++;
      headers['retry-after'] = String(Math.ceil(((counted - level) * periodMs) / limit / 1000));
      res.writeHead(429, headers);
      res.end(
        JSON.stringify({
          type: 'error',
          error: {
            type: 'rate_limit_error',
            message: `This request would exceed the rate limit for your organization (x) of ${limit} input tokens per minute.`,
          },
        }),
      );
      return;
    }
    accepted++;
    await new Promise((resolve) => setTimeout(resolve, 50));
    res.writeHead(200, headers);
    res.end(
      JSON.stringify({
        id: `msg_${accepted}`,
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [
          {
            type: 'tool_use',
            id: `toolu_${accepted}`,
            name: tool,
            input: {
              invoice_number: `N${accepted}`,
              vendor_name: null,
              invoice_date: null,
              total: 1,
              status: null,
              line_items: null,
            },
          },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: counted, output_tokens: 12 },
      }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push(server);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, refused: () => refused, accepted: () => accepted };
}

describe('token budget over HTTP', () => {
  it('calls wait for room in the input-token budget: every image ok, at most 2 refusals', async () => {
    // 10 calls' worth of tokens (the first calls go before any header came), refilled every
    // 3 s: 30 images take about 6 s at the ceiling.
    const server = await itpmServer(13_000, 3000);
    const provider = new AnthropicProvider({ apiKey: 'sk-ant-test', baseUrl: server.url });
    const cache = await openCache({ spec: 'off' });
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider,
      cache,
      breaker: false,
      retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
    });
    const images = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        solidJpeg(900, 900, `#${(0x202020 + 0x050505 * i).toString(16).padStart(6, '0')}`),
      ),
    );
    const records = await Promise.all(
      images.map((image, i) => pipeline.process(image, { label: `big-${i}.jpg` })),
    );
    await pipeline.close();
    await cache.close();
    await provider.close();
    expect(records.map((record) => record.status)).toEqual(Array(30).fill('ok'));
    expect(server.refused()).toBeLessThanOrEqual(2);
  }, 60_000);
});
