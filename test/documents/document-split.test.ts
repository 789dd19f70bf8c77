/**
 * `--pages document` past what one request may carry, through the library and a loopback
 * OpenAI-compatible server that counts calls and the images in each:
 * - pages together over the run's tokens-per-minute budget (`--tpm`, the library's
 *   `documents.maxRequestTokens`) could never be admitted: they are read page by page and
 *   merged, and the record says why (`pages_split`);
 * - a page that fails in page-by-page reading names the input and its 1-based page, in
 *   the merged document's error and in `each` mode's page record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import type { PipelineOptions } from '../../src/pipeline/spec.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { makePdf } from '../support/documents.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { invoicePattern } from '../support/simulator-fixtures.js';

const ANSWER = JSON.stringify({
  invoice_number: 'INV-9',
  vendor_name: null,
  invoice_date: null,
  total: 9,
  status: null,
  line_items: null,
});

let server: CompatibleServer;
/** The call (1-based, counted from `failFrom`'s mark) that answers 400; none when undefined. */
let failing: number | undefined;
let pdf: Buffer;

/** Images sent in one call: every image_url part of its messages. */
function imagesIn(call: CompatibleServer['calls'][number]): number {
  return call.body.messages
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .filter((part) => (part as { type?: string }).type === 'image_url').length;
}

beforeAll(async () => {
  server = await startCompatibleServer((_call, n) => (n === failing ? { status: 400 } : { content: ANSWER }));
  pdf = await makePdf([
    { lines: ['Invoice No: INV-9', 'Page one'] },
    { lines: ['Page two', 'Total: 9.00'] },
    { lines: ['Page three', 'Terms'] },
  ]);
});
afterAll(async () => {
  await server.close();
});

async function read(documents: PipelineOptions['documents']) {
  const provider = new OpenAIProvider({ apiKey: 'sk-test-split', baseUrl: server.baseUrl });
  const pipeline = await createPipeline({
    pattern: invoicePattern,
    provider,
    model: 'gpt-4o',
    cache: { spec: 'off' },
    documents,
  });
  try {
    return await pipeline.processAll({ bytes: pdf, name: 'doc.pdf' });
  } finally {
    await pipeline.close();
    await provider.close();
  }
}

describe('document mode past one request', () => {
  it('pages together over --tpm are read page by page and merged, and the record says so', async () => {
    const mark = server.calls.length;
    const [together] = await read({ pages: 'document' });
    expect(together!.status).toBe('ok');
    expect(server.calls.slice(mark).map(imagesIn)).toEqual([3]);
    expect(together!.pages_split).toBeUndefined();

    // One page's request is within 2 000 tokens; the three together are not.
    const mark2 = server.calls.length;
    const [split] = await read({ pages: 'document', maxRequestTokens: 2000 });
    expect(split!.error).toBeNull();
    expect(split).toMatchObject({ input: 'doc.pdf', status: 'ok', pages: 3, pages_sent: 3 });
    expect(server.calls.slice(mark2).map(imagesIn)).toEqual([1, 1, 1]);
    expect(split!.pages_split).toMatch(/3 pages together are about \d+ tokens, over --tpm 2000/);
    expect((split!.output as { total: number }).total).toBe(9);
  });

  it('a failed page names the input and its page, merged or in each mode', async () => {
    failing = server.calls.length + 2;
    const [merged] = await read({ pages: 'document', maxRequestTokens: 2000 });
    expect(merged!.status).toBe('error');
    expect(merged!.failed_page).toBe(2);
    expect(merged!.error?.message).toMatch(/doc\.pdf/);
    expect(merged!.error?.message).toMatch(/\bpage 2\b/);

    failing = server.calls.length + 2;
    const pages = await read({ pages: 'each' });
    expect(pages.map((r) => [r.page, r.status])).toEqual([
      [1, 'ok'],
      [2, 'error'],
      [3, 'ok'],
    ]);
    expect(pages[1]!.error?.message).toMatch(/doc\.pdf/);
    expect(pages[1]!.error?.message).toMatch(/\bpage 2\b/);
    failing = undefined;
  });
});
