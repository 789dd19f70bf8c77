/**
 * A provider that answers 400 for an image's size (IMAGE_TOO_LARGE) gets it once more,
 * smaller (half the long edge, not under MIN_RETRY_LONG_EDGE): the record says so
 * (`cascade.resized`, `profile`, `image`) and counts both calls in `attempts`. A second
 * refusal is the record's error: one retry, never a loop. Real OpenAI provider against an
 * OpenAI-compatible server on loopback that refuses bodies over N bytes; a real corpus scan.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/patterns/index.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { closeAllAgents } from '../../src/providers/http.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import type { TestServer } from '../support/http.js';
import { corpus } from '../support/images.js';
import { startCompatibleServer } from '../support/openai-compatible.js';

const pattern = parsePattern(
  {
    name: 'simple',
    format: 'json',
    instructions: 'Vendor and total.',
    json_schema: { vendor_name: 'string', total: 'number' },
  },
  'size-retry',
);
const servers: TestServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await closeAllAgents();
});

async function processWith(maxBodyBytes: number) {
  const server = await startCompatibleServer(
    '{"vendor_name":"YOUR COMPANY","total":1699.48}',
    { prompt_tokens: 1000, completion_tokens: 20 },
    { maxBodyBytes },
  );
  servers.push(server);
  const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: server.baseUrl });
  const pipeline = await createPipeline({
    pattern,
    provider,
    model: 'gpt-4.1',
    profile: 'none',
    cache: { spec: 'off' },
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
  const record = await pipeline.process(await readFile(corpus('invoice1.jpg')), { label: 'invoice1.jpg' });
  await pipeline.close();
  await provider.close();
  return { record, server };
}

describe('after a size refusal, one retry smaller', () => {
  it('refused twice: IMAGE_TOO_LARGE after exactly two calls, the second body smaller', async () => {
    const { record, server } = await processWith(1);
    expect(record.status).toBe('error');
    expect(record.error?.code).toBe('IMAGE_TOO_LARGE');
    expect(record.attempts).toBe(2);
    expect(server.refused).toHaveLength(2);
    expect(server.refused[1]).toBeLessThan(server.refused[0]! / 2);
    // The image reported is the one last sent: half the long edge of the first one sent.
    const first = (await processWith(100_000_000)).record.image!;
    expect(Math.max(record.image?.width ?? 0, record.image?.height ?? 0)).toBe(
      Math.floor(Math.max(first.width, first.height) / 2),
    );
    // The error says a smaller send was tried, at what size, and that it was refused too.
    expect(record.error?.message).toMatch(
      new RegExp(
        `^openai refused ${first.width}×${first.height} as too large; resent smaller at ${record.image!.width}×${record.image!.height}, still refused: openai: HTTP 400`,
      ),
    );
  });

  it('refused once: the smaller image is read, the record says it was resized and counts both calls', async () => {
    const sizes = (await processWith(1)).server.refused;
    const first = (await processWith(100_000_000)).record.image!;
    const half = Math.floor(Math.max(first.width, first.height) / 2);
    const { record, server } = await processWith(Math.floor((sizes[0]! + sizes[1]!) / 2));
    expect(server.refused).toHaveLength(1);
    expect(server.calls).toHaveLength(1);
    expect(record).toMatchObject({
      status: 'ok',
      attempts: 2,
      output: { vendor_name: 'YOUR COMPANY', total: 1699.48 },
    });
    expect(record.cascade.resized).toContain(`refused ${first.width}×${first.height} as too large`);
    expect(record.cascade.resized).toContain(`sent again at most ${half} px long`);
    expect(record.profile).toContain('after-size-refusal');
    expect(Math.max(record.image!.width, record.image!.height)).toBe(half);
    // Only the accepted call was billed.
    expect(record.usage).toMatchObject({ input_tokens: 1000, output_tokens: 20 });
  });

  it('a record that was never refused carries no resized note', async () => {
    const { record, server } = await processWith(100_000_000);
    expect(server.refused).toHaveLength(0);
    expect(record).toMatchObject({ status: 'ok', attempts: 1 });
    expect(record.cascade).not.toHaveProperty('resized');
  });
});
