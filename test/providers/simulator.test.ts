import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVisionpipeError } from '../../src/errors.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { ProviderImage } from '../../src/providers/spec.js';
import { anthropicImageTokens, openaiImageTokens } from '../../src/providers/tokens.js';
import { type SimulatorOptions, startSimulator } from '../../src/simulator/index.js';
import { asProviderImage, invoicePattern, solidJpeg } from '../support/simulator-fixtures.js';

const KEY = 'sk-simulator-test-000000000';
let image: ProviderImage;

beforeAll(async () => {
  image = await asProviderImage(await solidJpeg(1024, 1024));
});

afterAll(() => closeAllAgents());

function openaiBody(model = 'gpt-4o') {
  return JSON.stringify({
    model,
    messages: [
      {
        role: 'user',
        content: [
          {
            type: 'image_url',
            image_url: { url: `data:image/jpeg;base64,${image.data.toString('base64')}`, detail: 'high' },
          },
          { type: 'text', text: 'Is this an invoice?' },
        ],
      },
    ],
  });
}

function anthropicBody() {
  return JSON.stringify({
    model: 'claude-haiku-4-5',
    max_tokens: 5,
    messages: [
      {
        role: 'user',
        content: [
          {
            type: 'image',
            source: { type: 'base64', media_type: 'image/jpeg', data: image.data.toString('base64') },
          },
          { type: 'text', text: 'Is this an invoice?' },
        ],
      },
    ],
  });
}

async function withSimulator<T>(
  options: SimulatorOptions,
  run: (sim: Awaited<ReturnType<typeof startSimulator>>) => Promise<T>,
) {
  const sim = await startSimulator(options);
  try {
    return await run(sim);
  } finally {
    await sim.close();
  }
}

describe('simulator: OpenAI rate limits', () => {
  it('answers real 429s with x-ratelimit-* Go durations, retry-after-ms and retry-after once RPM is spent', async () => {
    await withSimulator({ rpm: 2, timeScale: 0.01 }, async (sim) => {
      const post = () =>
        fetch(`${sim.baseUrls.openai}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: openaiBody(),
        });
      const ok = await post();
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('2');
      expect(ok.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect(ok.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+ms$/);
      expect(ok.headers.get('content-encoding')).toBe('gzip');
      await post();
      const limited = await post();
      expect(limited.status).toBe(429);
      const waitMs = Number(limited.headers.get('retry-after-ms'));
      expect(waitMs).toBeGreaterThan(0);
      expect(waitMs).toBeLessThanOrEqual(600);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(await limited.json()).toMatchObject({
        error: { type: 'requests', code: 'rate_limit_exceeded' },
      });
      await new Promise((resolve) => setTimeout(resolve, waitMs + 20));
      expect((await post()).status).toBe(200);
      expect(sim.stats.rateLimited).toBe(1);
      expect(sim.stats.requests['openai POST /v1/chat/completions']).toBe(4);
    });
  });

  it('limits tokens per minute with the real image-token formula (type "tokens")', async () => {
    const perCall = openaiImageTokens(1024, 1024, 'gpt-4o');
    await withSimulator({ tpm: perCall * 2 + 100 }, async (sim) => {
      const p = new OpenAIProvider({ baseUrl: sim.baseUrls.openai, apiKey: KEY });
      await p.ask!({ image, question: 'Invoice?', model: 'gpt-4o' }, AbortSignal.timeout(5000)).catch(
        () => undefined,
      );
      const answers = await Promise.allSettled(
        [1, 2, 3].map(() =>
          p.extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, AbortSignal.timeout(5000)),
        ),
      );
      const limited = answers.filter(
        (a) => a.status === 'rejected' && isVisionpipeError(a.reason) && a.reason.code === 'RATE_LIMITED',
      );
      expect(limited.length).toBeGreaterThanOrEqual(1);
      const body = sim.requests.at(-1)!;
      expect(body.route).toBe('openai POST /v1/chat/completions');
      await p.close();
    });
  });
});

describe('simulator: Anthropic and ImgGo headers', () => {
  it('sends anthropic-ratelimit-* with RFC 3339 resets, and retry-after on 429', async () => {
    await withSimulator({ rpm: 1, tpm: 100_000, timeScale: 0.01 }, async (sim) => {
      const post = () =>
        fetch(`${sim.url}/v1/messages`, {
          method: 'POST',
          headers: {
            'x-api-key': KEY,
            'anthropic-version': '2023-06-01',
            'content-type': 'application/json',
          },
          body: anthropicBody(),
        });
      const ok = await post();
      expect(ok.status).toBe(200);
      const reset = ok.headers.get('anthropic-ratelimit-requests-reset')!;
      expect(reset).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(reset)).toBeGreaterThan(Date.now() - 1000);
      expect(ok.headers.get('anthropic-ratelimit-input-tokens-limit')).toBe('100000');
      const body = (await ok.json()) as { usage: { input_tokens: number } };
      expect(body.usage.input_tokens).toBeGreaterThan(anthropicImageTokens(1024, 1024));
      const limited = await post();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('1');
      expect(await limited.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    });
  });

  it('sends X-RateLimit-* (Reset in unix seconds) on every ImgGo answer', async () => {
    await withSimulator({ rpm: 5 }, async (sim) => {
      const response = await fetch(`${sim.baseUrls.imggo}/patterns/p-1/ingest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ image_url: 'http://127.0.0.1:9/none.jpg', idempotency_key: 'k1' }),
      });
      expect(response.status).toBe(202);
      expect(response.headers.get('x-ratelimit-limit')).toBe('5');
      expect(response.headers.get('x-ratelimit-remaining')).toBe('4');
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      expect(Math.abs(reset - (Date.now() / 1000 + 60))).toBeLessThan(2);
      const job = (await response.json()) as { data: { job_id: string; status: string } };
      expect(job.data.status).toBe('queued');
      // The URL cannot be fetched: the job fails, as ImgGo reports it.
      let status = 'queued';
      for (let i = 0; i < 50 && (status === 'queued' || status === 'running'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const poll = await fetch(`${sim.baseUrls.imggo}/jobs/${job.data.job_id}`, {
          headers: { authorization: `Bearer ${KEY}` },
        });
        if (poll.status === 429) break;
        status = ((await poll.json()) as { data: { status: string } }).data.status;
      }
      expect(status).toBe('failed');
    });
  });
});

describe('simulator: latency, faults, accounting', () => {
  it('draws latency uniformly within the range, scaled by timeScale', async () => {
    await withSimulator({ latency: { minMs: 200, maxMs: 240 }, timeScale: 0.5 }, async (sim) => {
      const p = new OpenAIProvider({ baseUrl: sim.baseUrls.openai, apiKey: KEY });
      const started = performance.now();
      await p.extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, AbortSignal.timeout(5000));
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(99);
      expect(elapsed).toBeLessThan(1000);
      await p.close();
    });
  });

  it('injects faults at the configured rates, the same way for the same seed', async () => {
    const outcomes = async () =>
      withSimulator(
        { seed: 7, faults: { rate5xx: 0.25, rateMalformed: 0.25, rateReset: 0.1 } },
        async (sim) => {
          const p = new OpenAIProvider({ baseUrl: sim.baseUrls.openai, apiKey: KEY });
          const codes: string[] = [];
          for (let i = 0; i < 30; i++) {
            codes.push(
              await p
                .extract({ image, pattern: invoicePattern, model: 'gpt-4o' }, AbortSignal.timeout(5000))
                .then(
                  () => 'ok',
                  (e: unknown) => (isVisionpipeError(e) ? e.code : 'other'),
                ),
            );
          }
          await p.close();
          return { codes, faults: { ...sim.stats.faults } };
        },
      );
    const first = await outcomes();
    const second = await outcomes();
    expect(second.codes).toEqual(first.codes);
    expect(first.codes.filter((c) => c === 'PROVIDER_UNAVAILABLE').length).toBe(first.faults['5xx']);
    expect(first.codes.filter((c) => c === 'BAD_RESPONSE').length).toBe(first.faults.malformed);
    expect(first.codes.filter((c) => c === 'CONNECTION_FAILED').length).toBe(first.faults.reset);
    expect(first.codes).toContain('ok');
    expect(first.faults['5xx'] + first.faults.malformed).toBeGreaterThan(5);
  });

  it('bills tokens by the real formulas and counts them in stats', async () => {
    await withSimulator({}, async (sim) => {
      const p = new OpenAIProvider({ baseUrl: sim.baseUrls.openai, apiKey: KEY });
      const result = await p.extract(
        { image, pattern: invoicePattern, model: 'gpt-4o' },
        AbortSignal.timeout(5000),
      );
      expect(sim.stats.tokens.image).toBe(765);
      expect(sim.stats.tokens.input).toBe(result.usage.input_tokens);
      expect(sim.stats.tokens.output).toBe(result.usage.output_tokens);
      await p.close();
    });
  });

  it('validates its own options', async () => {
    await expect(startSimulator({ timeScale: 0 })).rejects.toThrow(/timeScale/);
    await expect(startSimulator({ faults: { rate5xx: 2 } })).rejects.toThrow(/rate5xx/);
  });
});
