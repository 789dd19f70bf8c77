/**
 * OpenAI's byte limits (issue 11 §6): the simulator answers a request over them with the
 * API's 400 error object, and visionpipe takes that refusal as deterministic: no blind
 * retry, one retry at half the long edge (a second refusal fails the record IMAGE_TOO_LARGE:
 * test/pipeline/size-refusal-retry.test.ts). Real HTTP on loopback,
 * a real corpus photo through the real pipeline.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { type Simulator, startSimulator } from '../../src/simulator/index.js';
import { corpus } from '../support/images.js';
import { invoicePattern } from '../support/simulator-fixtures.js';

const sims: Simulator[] = [];

afterEach(async () => {
  for (const sim of sims.splice(0)) await sim.close();
  await closeAllAgents();
});

async function post(sim: Simulator, body: string) {
  const response = await fetch(`${sim.baseUrls.openai}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error: Record<string, unknown> } };
}

function chat(dataUrl: string) {
  return JSON.stringify({
    model: 'gpt-4.1-mini',
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: dataUrl } }] }],
  });
}

describe('the simulator answers OpenAI’s 400 past its byte limits', () => {
  it('an image over 20 MB (the documented limit): invalid_request_error, image_too_large', async () => {
    const sim = await startSimulator({ answer: 'empty' });
    sims.push(sim);
    // 20 000 001 bytes of image: the limit is checked on the size, before decoding.
    const data = Buffer.alloc(20_000_001, 0xff).toString('base64');
    const reply = await post(sim, chat(`data:image/jpeg;base64,${data}`));
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'image_too_large',
      param: 'messages',
    });
    expect(reply.body.error.message).toContain('20000000 bytes');
  });

  it('a request body over the limit: invalid_request_error, request_too_large', async () => {
    const sim = await startSimulator({ answer: 'empty', openaiLimits: { maxRequestBytes: 10_000 } });
    sims.push(sim);
    const data = Buffer.alloc(9_000, 0xff).toString('base64');
    const reply = await post(sim, chat(`data:image/jpeg;base64,${data}`));
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
    expect(reply.body.error.message).toContain('10000 bytes');
  });
});

describe('visionpipe against a server with smaller byte limits than OpenAI’s', () => {
  it('one retry at half the long edge; the record says why (the refusal names the limit)', async () => {
    // An OpenAI-compatible server that takes 20 kB per image: visionpipe sizes for OpenAI's
    // 20 MB, so the server's 400 is the first it hears of the limit.
    const sim = await startSimulator({ answer: 'empty', openaiLimits: { maxImageBytes: 20_000 } });
    sims.push(sim);
    const provider = new OpenAIProvider({ apiKey: 'sk-test', baseUrl: sim.baseUrls.openai });
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider,
      model: 'gpt-4.1-mini',
      cache: { spec: 'off' },
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    const record = await pipeline.process(await readFile(corpus('invoice1.jpg')), { label: 'invoice1.jpg' });
    await pipeline.close();
    await provider.close();
    // Sized for OpenAI's 20 MB, refused at this server's 20 kB, read at half the long edge.
    expect(record.status).toBe('ok');
    expect(record.cascade.resized).toContain('20000 bytes');
    expect(record.attempts).toBe(2);
    expect(sim.stats.requests['openai POST /v1/chat/completions']).toBe(2);
  });
});
