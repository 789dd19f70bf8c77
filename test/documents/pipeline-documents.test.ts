import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVOICE_PAGES } from '../../samples/scripts/documents.js';
import { openCache } from '../../src/cache/open-cache.js';
import { createPipeline } from '../../src/pipeline/create-pipeline.js';
import { mergePageOutputs } from '../../src/pipeline/merge-pages.js';
import { fitsOneRequest } from '../../src/pipeline/page-requests.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { LocalProvider } from '../../src/providers/local.js';
import { OpenAIProvider } from '../../src/providers/openai.js';
import { startSimulator } from '../../src/simulator/index.js';
import { encryptedPdf, makePdf, type PdfPageSpec } from '../support/documents.js';
import { tempDir } from '../support/images.js';
import { invoicePattern } from '../support/simulator-fixtures.js';

/** The sample invoice's pages: the total is printed only on page 2, then a blank page. */
const INVOICE: PdfPageSpec[] = INVOICE_PAGES;
const EXTRA_PAGE: PdfPageSpec = { lines: ['Remittance advice', 'Invoice No: INV-2041', 'Total: 63.00'] };

type Invoice = { invoice_number: string | null; total: number | null; vendor_name: string | null };
const output = (record: RunRecord) => record.output as Invoice;

let local: LocalProvider;
let sim: Awaited<ReturnType<typeof startSimulator>>;
let pdf: Buffer;

beforeAll(async () => {
  local = new LocalProvider({ workers: 1 });
  sim = await startSimulator({ answer: 'local', localWorkers: 1 });
  pdf = await makePdf(INVOICE);
});
afterAll(async () => {
  await local.close();
  await sim.close();
});

describe('documents through the pipeline', () => {
  it('reads a 2-page invoice as one document with the local engine: the total from page 2', async () => {
    const pipeline = await createPipeline({ pattern: invoicePattern, provider: local });
    const record = await pipeline.process({ bytes: pdf, name: 'invoice.pdf' });
    expect(record.status).toBe('ok');
    expect(output(record).invoice_number).toBe('INV-2041');
    expect(output(record).total).toBe(63);
    expect(record).toMatchObject({ input: 'invoice.pdf', pages: 3, pages_sent: 2, blank_pages: [3] });
    await pipeline.close();
  });

  it('sends the pages together in one request through the OpenAI API (simulator)', async () => {
    const provider = new OpenAIProvider({ apiKey: 'sk-test-0000', baseUrl: sim.baseUrls.openai });
    const pipeline = await createPipeline({ pattern: invoicePattern, provider, model: 'gpt-4.1-mini' });
    const before = sim.stats.total;
    const record = await pipeline.process({ bytes: pdf, name: 'invoice.pdf' });
    expect(record.error).toBeNull();
    expect(output(record).total).toBe(63);
    expect(output(record).invoice_number).toBe('INV-2041');
    // One request carried both non-blank pages; the blank page was never sent.
    expect(sim.stats.total - before).toBe(1);
    expect(record.pages_sent).toBe(2);
    expect(record.usage.image_tokens).toBeGreaterThan(0);
    await pipeline.close();
    await provider.close();
  });

  it('past the per-request image limit, reads page by page and merges what the schema allows', async () => {
    // The real local engine, told it may take one image per request.
    const onePerRequest = Object.assign(Object.create(local) as LocalProvider, {
      limits: { maxImagesPerRequest: 1 },
    });
    const pipeline = await createPipeline({ pattern: invoicePattern, provider: onePerRequest });
    const record = await pipeline.process({ bytes: pdf, name: 'invoice.pdf' });
    expect(record.status).toBe('ok');
    expect(output(record).invoice_number).toBe('INV-2041');
    expect(output(record).total).toBe(63);
    expect(record.attempts).toBe(2);
    // Scalars come from the first page that has them; a later page's other reading is reported.
    expect(output(record).vendor_name).toBe('ACME Supplies Ltd');
    expect(record.conflicts?.every((c) => c.kept.page === 1 && c.other.page === 2)).toBe(true);
    await pipeline.close();
  });

  it('gives one record per page with --pages each, and a new page is the only one paid for', async () => {
    const cache = await openCache({ spec: 'memory' });
    const options = {
      pattern: invoicePattern,
      provider: local,
      cache,
      documents: { pages: 'each' as const },
    };
    const first = await (await createPipeline(options)).processAll({ bytes: pdf, name: 'invoice.pdf' });
    expect(first.map((r) => [r.page, r.status, r.cache])).toEqual([
      [1, 'ok', 'miss'],
      [2, 'ok', 'miss'],
      [3, 'skipped', null],
    ]);
    expect(output(first[1]!).total).toBe(63);
    expect(first[2]!.reason).toMatch(/blank page/);
    const longer = await makePdf([...INVOICE, EXTRA_PAGE]);
    const second = await (await createPipeline(options)).processAll({ bytes: longer, name: 'invoice.pdf' });
    expect(second.map((r) => [r.page, r.cache, r.attempts])).toEqual([
      [1, 'hit', 0],
      [2, 'hit', 0],
      [3, null, 0],
      [4, 'miss', 1],
    ]);
    await cache.close();
  });

  it('turns an encrypted PDF into an error record naming it, and the batch goes on', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'locked.pdf'), await encryptedPdf());
    await writeFile(
      path.join(dir, 'short.pdf'),
      await makePdf([{ lines: ['Invoice No: A-1', 'Total: 5.00'] }]),
    );
    const pipeline = await createPipeline({ pattern: invoicePattern, provider: local });
    const records: RunRecord[] = [];
    const items = ['locked.pdf', 'short.pdf'].map((name) => ({
      kind: 'file' as const,
      path: path.join(dir, name),
      rel: name,
      label: name,
    }));
    for await (const record of pipeline.run(items, { concurrency: 1 })) records.push(record);
    const locked = records.find((r) => r.input === 'locked.pdf')!;
    expect(locked.error?.code).toBe('DOCUMENT_ENCRYPTED');
    expect(locked.error?.message).toMatch(/locked\.pdf/);
    const short = records.find((r) => r.input === 'short.pdf')!;
    expect(short.status).toBe('ok');
    expect(output(short).total).toBe(5);
    await pipeline.close();
  });

  it('takes a PDF from a URL and from base64 like an image', async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/invoice.pdf`;
    const pipeline = await createPipeline({
      pattern: invoicePattern,
      provider: local,
      sourceLimits: { allowPrivateNetworks: true },
    });
    const fromUrl = await pipeline.process(url);
    const fromBase64 = await pipeline.process({ base64: pdf.toString('base64'), name: 'b64.pdf' });
    server.close();
    expect(output(fromUrl).total).toBe(63);
    expect(fromBase64.pages).toBe(3);
    expect(output(fromBase64).total).toBe(63);
    await pipeline.close();
  });
});

describe('merging page outputs', () => {
  it('concatenates arrays, keeps the first page with a value and reports disagreements', () => {
    const merged = mergePageOutputs(invoicePattern.schema, [
      {
        page: 2,
        output: { invoice_number: 'A-1', total: 63, vendor_name: 'Other', line_items: [{ amount: 2 }] },
      },
      {
        page: 1,
        output: { invoice_number: 'A-1', total: null, vendor_name: 'ACME', line_items: [{ amount: 1 }] },
      },
    ]);
    expect(merged.output).toMatchObject({ invoice_number: 'A-1', total: 63, vendor_name: 'ACME' });
    expect((merged.output as { line_items: unknown[] }).line_items).toEqual([{ amount: 1 }, { amount: 2 }]);
    expect(merged.conflicts).toEqual([
      { field: '/vendor_name', kept: { page: 1, value: 'ACME' }, other: { page: 2, value: 'Other' } },
    ]);
  });

  it('fits pages into one request only within the image count and the request bytes', () => {
    expect(fitsOneRequest(2, 1000, undefined)).toBe(false);
    expect(fitsOneRequest(2, 1000, { maxImagesPerRequest: 2 })).toBe(true);
    expect(fitsOneRequest(3, 1000, { maxImagesPerRequest: 2 })).toBe(false);
    const limits = { maxImagesPerRequest: 100, maxRequestBytes: 1_000_000 };
    expect(fitsOneRequest(10, 500_000, limits)).toBe(true);
    expect(fitsOneRequest(10, 600_000, limits)).toBe(false);
  });
});
