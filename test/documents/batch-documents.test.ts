/**
 * Documents through provider batch APIs (`run --batch-api`): a real PDF made in the test
 * goes to the loopback simulator's OpenAI and Anthropic batch endpoints. Its pages are
 * rendered and blank ones set aside exactly as in a direct run; with `--pages document`
 * the pages travel in one batch request, with `--pages each` one request per page; the
 * stored job knows every page's size, so the image tokens count every page.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVOICE_PAGES } from '../../samples/scripts/documents.js';
import type { PagesMode } from '../../src/documents/pages-mode.js';
import { sha256 } from '../../src/image/fingerprint.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { createBatchBackend } from '../../src/providers/batch/index.js';
import { createProvider } from '../../src/providers/registry.js';
import type { InputItem } from '../../src/runs/inputs.js';
import { type SimCall, type Simulator, startSimulator } from '../../src/simulator/index.js';
import { batchRecords } from '../support/batch-run.js';
import { makePdf } from '../support/documents.js';
import { tempDir } from '../support/images.js';
import { invoicePattern } from '../support/simulator-fixtures.js';

const KEY = 'sk-test-batch-documents';
let sim: Simulator;
let folder: string;
let pdfPath: string;

/** Says how many images the request carried: `total` is that count. */
const answer = (call: SimCall) => ({
  invoice_number: 'INV-2041',
  vendor_name: null,
  invoice_date: null,
  total: 1 + (call.pages?.length ?? 0),
  status: null,
  line_items: null,
});

beforeAll(async () => {
  sim = await startSimulator({ answer, latency: { minMs: 0, maxMs: 5 } });
  folder = await tempDir('visionpipe-batch-docs-');
  pdfPath = path.join(folder, 'invoice.pdf');
  // Two pages of an invoice, then a blank page.
  await writeFile(pdfPath, await makePdf(INVOICE_PAGES));
});
afterAll(async () => {
  await sim.close();
});

async function* one(item: InputItem): AsyncGenerator<InputItem> {
  yield item;
}

/** One batch run of the PDF; its records and the state directory it kept. */
async function batchRun(
  api: 'openai' | 'anthropic',
  pages: PagesMode,
): Promise<{ records: RunRecord[]; stateDir: string }> {
  const options = { apiKey: KEY, baseUrl: sim.baseUrls[api] };
  const pipeline = await createPipeline({
    pattern: invoicePattern,
    provider: createProvider(api, { [api]: options }),
    cache: { spec: 'off' },
    documents: { pages },
  });
  const stateDir = await tempDir('visionpipe-batch-docs-state-');
  const records = await batchRecords(
    one({ kind: 'file', path: pdfPath, label: 'invoice.pdf', rel: 'invoice.pdf' }),
    {
      backend: createBatchBackend(api, { [api]: options }),
      pipeline,
      stateDir,
      jobKey: `documents-${api}-${pages}`,
    },
  );
  return { records, stateDir };
}

/** The request entries of the one stored batch: `[customId, model, width, height, ...[w, h]]`. */
async function storedRequests(stateDir: string): Promise<unknown[][]> {
  const dir = path.join(stateDir, 'batches');
  const [file] = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  const state = JSON.parse(await readFile(path.join(dir, file!), 'utf8')) as {
    batches: Array<{ requests: unknown[][] }>;
  };
  expect(state.batches).toHaveLength(1);
  return state.batches[0]!.requests;
}

describe('documents through provider batch APIs', () => {
  it.each(['openai', 'anthropic'] as const)(
    '%s: --pages document sends the pages together in one batch request and counts every page',
    async (api) => {
      const before = { ...sim.stats.batchTokens };
      const { records, stateDir } = await batchRun(api, 'document');
      expect(records).toHaveLength(1);
      const record = records[0]!;
      expect(record.error).toBeNull();
      expect(record).toMatchObject({
        input: 'invoice.pdf',
        status: 'ok',
        pages: 3,
        pages_sent: 2,
        blank_pages: [3],
        // Two images in the one request (the blank page was never sent).
        output: { invoice_number: 'INV-2041', total: 2 },
      });
      const file = await readFile(pdfPath);
      expect(record.document_sha256).toBe(sha256(file));
      // The stored job keeps both pages' sizes: the image tokens are both pages', as billed.
      const [request] = await storedRequests(stateDir);
      expect(request).toHaveLength(5);
      expect(request![4]).toEqual([expect.any(Number), expect.any(Number)]);
      expect(record.usage.image_tokens).toBe(sim.stats.batchTokens.image - before.image);
      expect(record.image?.tokens).toBe(record.usage.image_tokens);
      expect(record.cost_usd).toBeGreaterThan(0);
    },
  );

  it('--pages each sends one batch request per page and gives one record per page', async () => {
    const before = sim.stats.batchTokens.image;
    const { records, stateDir } = await batchRun('openai', 'each');
    const byPage = [...records].sort((a, b) => (a.page ?? 0) - (b.page ?? 0));
    expect(byPage.map((r) => [r.input, r.page, r.status, r.pages, r.pages_sent])).toEqual([
      ['invoice.pdf', 1, 'ok', 3, 1],
      ['invoice.pdf', 2, 'ok', 3, 1],
      ['invoice.pdf', 3, 'skipped', 3, 0],
    ]);
    expect(byPage[2]!.reason).toMatch(/^blank page/);
    expect(byPage.slice(0, 2).map((r) => (r.output as { total: number }).total)).toEqual([1, 1]);
    expect(new Set(records.map((r) => r.document_sha256)).size).toBe(1);
    const requests = await storedRequests(stateDir);
    expect(requests.map((r) => r.length)).toEqual([4, 4]);
    const tokens = byPage.reduce((sum, r) => sum + r.usage.image_tokens, 0);
    expect(tokens).toBe(sim.stats.batchTokens.image - before);
  });
});
