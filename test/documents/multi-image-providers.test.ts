/**
 * `--pages document` through every remote API: the pages of a document travel in one
 * request as several images where the API takes them (OpenAI, Anthropic, Gemini), and one
 * job per page where it does not (ImgGo), merged afterwards. The simulator is a real HTTP
 * server on 127.0.0.1 reading the pages with the local engine, and it records each body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVOICE_PAGES } from '../../samples/scripts/documents.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { AnthropicProvider } from '../../src/providers/anthropic.js';
import { GeminiProvider } from '../../src/providers/gemini.js';
import { ImgGoProvider } from '../../src/providers/imggo.js';
import type { Provider } from '../../src/providers/spec.js';
import { startSimulator } from '../../src/simulator/index.js';
import { makePdf } from '../support/documents.js';
import { invoicePattern } from '../support/simulator-fixtures.js';

type Invoice = { invoice_number: string | null; total: number | null };
const output = (record: RunRecord) => record.output as Invoice;

const IMGGO_PATTERN = '550e8400-e29b-41d4-a716-446655440000';
let sim: Awaited<ReturnType<typeof startSimulator>>;
let pdf: Buffer;

beforeAll(async () => {
  sim = await startSimulator({
    answer: 'local',
    localWorkers: 1,
    rpm: 10_000,
    // ImgGo holds the schema on its side, under the pattern's id.
    imggoPatterns: { [IMGGO_PATTERN]: { schema: invoicePattern.schema } },
  });
  pdf = await makePdf(INVOICE_PAGES);
});
afterAll(async () => {
  await sim.close();
});

/** Reads the sample invoice (2 pages with ink, 1 blank) and returns the record and the bodies sent. */
async function readInvoice(provider: Provider, model: string) {
  const pipeline = await createPipeline({ pattern: invoicePattern, provider, model, cache: { spec: 'off' } });
  const before = sim.requests.length;
  const record = await pipeline.process({ bytes: pdf, name: 'invoice.pdf' });
  await pipeline.close();
  await provider.close();
  return { record, sent: sim.requests.slice(before) };
}

describe('a document in one request, per API', () => {
  it('Anthropic: both pages as base64 image blocks, page 1 first, before the text', async () => {
    const provider = new AnthropicProvider({ apiKey: 'sk-ant-test-0000', baseUrl: sim.baseUrls.anthropic });
    const { record, sent } = await readInvoice(provider, 'claude-sonnet-4-5');
    expect(record.error).toBeNull();
    expect(output(record)).toMatchObject({ invoice_number: 'INV-2041', total: 63 });
    expect(sent).toHaveLength(1);
    const body = sent[0]!.json as { messages: Array<{ content: Array<{ type: string }> }> };
    expect(body.messages[0]!.content.map((b) => b.type)).toEqual(['image', 'image', 'text']);
    expect(record).toMatchObject({ pages: 3, pages_sent: 2, blank_pages: [3], attempts: 1 });
    expect(record.usage.image_tokens).toBeGreaterThan(0);
  });

  it('Gemini: both pages as inline_data parts, page 1 first, before the text', async () => {
    const provider = new GeminiProvider({ apiKey: 'gm-test-0000', baseUrl: sim.baseUrls.gemini });
    const { record, sent } = await readInvoice(provider, 'gemini-2.5-flash');
    expect(record.error).toBeNull();
    expect(output(record)).toMatchObject({ invoice_number: 'INV-2041', total: 63 });
    expect(sent).toHaveLength(1);
    const body = sent[0]!.json as { contents: Array<{ parts: Array<Record<string, unknown>> }> };
    const parts = body.contents[0]!.parts;
    expect(parts.map((p) => Object.keys(p)[0])).toEqual(['inline_data', 'inline_data', 'text']);
    expect(record).toMatchObject({ pages: 3, pages_sent: 2, attempts: 1 });
  });

  it('ImgGo takes one image per job: one ingest per page, outputs merged by the schema', async () => {
    const provider = new ImgGoProvider({
      apiKey: 'imggo-test-0000',
      baseUrl: sim.baseUrls.imggo,
      imggoPatternId: IMGGO_PATTERN,
      pollIntervalMs: 10,
    });
    expect(provider.limits.maxImagesPerRequest).toBe(1);
    const { record, sent } = await readInvoice(provider, provider.defaultModel);
    expect(record.error).toBeNull();
    expect(output(record)).toMatchObject({ invoice_number: 'INV-2041', total: 63 });
    expect(sent.filter((r) => r.method === 'POST' && r.path.includes('/ingest'))).toHaveLength(2);
    expect(record).toMatchObject({ pages: 3, pages_sent: 2, attempts: 2 });
  });
});
