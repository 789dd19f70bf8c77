/**
 * Documents through the service: a PDF built here with pdf-lib (two text pages and a
 * blank one) and a multi-page TIFF go through `POST /patterns/{id}/ingest` (upload,
 * image_url, image_base64) to a real BullMQ worker and the provider simulator. One job
 * per document; OpenAI takes the pages in one request, so the simulator bills one call
 * per document; blank pages are never sent; the job carries the page facts. A document
 * over the service's page limit is refused at the door with ImgGo's error shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, imageForm, type JobData, waitForJob } from '../support/api-client.js';
import { makePdf, multiPageTiff, numberedPages, textImage } from '../support/documents.js';
import { startServer, type TestServer } from '../support/http.js';
import { Contract } from '../support/openapi.js';
import { startTestService, type TestService } from '../support/service.js';
import { type Receiver, startReceiver } from '../support/webhook-receiver.js';

const MAX_PAGES = 3;
let sim: Simulator;
let svc: TestService;
let key: string;
let patternId: string;
let files: TestServer;
let billed = 0;
const contract = new Contract();
let urlPdf: Buffer;
let receiver: Receiver;

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 50, maxMs: 50 },
    answer: () => ({ invoice_number: 'INV-7', total: 63 }),
    onBilled: () => {
      billed++;
    },
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    maxPages: MAX_PAGES,
    webhooks: { allowPrivate: true, pollMs: 50, schedule: { delaysMs: [50, 50], jitter: 0 } },
  });
  receiver = await startReceiver();
  key = await svc.key(['patterns:write', 'patterns:ingest', 'jobs:read']);
  const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
    key,
    json: {
      name: 'Invoice',
      instructions: 'Read the invoice',
      json_schema: { invoice_number: 'string', total: 'number' },
    },
  });
  patternId = created.body.data.id;
  urlPdf = await makePdf([{ lines: ['Invoice INV-8'] }, { lines: ['Total 12.50'] }]);
  files = await startServer((req, res) => {
    if (req.url === '/invoice.pdf') {
      res.writeHead(200, { 'content-type': 'application/pdf' }).end(urlPdf);
      return;
    }
    res.writeHead(404).end('not here');
  });
});

afterAll(async () => {
  await svc?.close();
  await sim?.close();
  await files?.close();
  await receiver?.close();
});

const ingest = (body: FormData | Record<string, unknown>) =>
  call<{ data: { job_id: string; status: string } }>(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
    key,
    ...(body instanceof FormData ? { form: body } : { json: body }),
  });

describe('documents through POST /patterns/{id}/ingest', () => {
  it('an uploaded PDF is one job: pages read together, the blank page never sent, one provider call', async () => {
    const pdf = await makePdf([
      { lines: ['Invoice INV-7', 'Acme Corp'] },
      { lines: ['Total 63.00'] },
      {}, // blank
    ]);
    const mark = billed;
    const answer = await ingest(imageForm(pdf, 'invoice.pdf', 'file', 'application/pdf'));
    expect(answer.status).toBe(202);
    const job: JobData = await waitForJob(svc.api, key, answer.body.data.job_id);
    expect(job.status).toBe('succeeded');
    expect(job.manifest).toEqual({ invoice_number: 'INV-7', total: 63 });
    expect(job.document).toEqual({ pages: 3, pages_sent: 2, blank_pages: [3], conflicts: [] });
    expect(billed - mark).toBe(1);
    expect(contract.check('GET', '/api/jobs/{id}', 200, { success: true, data: job })).toEqual([]);
    const upload = await fetch(String(job.image_url), { headers: { authorization: `Bearer ${key}` } });
    expect(upload.headers.get('content-type')).toBe('application/pdf');
  });

  it("a document's job.succeeded webhook carries its page facts beside ImgGo's fields; an image's says null", async () => {
    const pdf = await makePdf([{ lines: ['Invoice INV-77'] }, {}, { lines: ['Total 63.00'] }]);
    const form = imageForm(pdf, 'hooked.pdf', 'file', 'application/pdf');
    form.append('webhook_url', receiver.url);
    const answer = await ingest(form);
    const jobId = answer.body.data.job_id;
    await receiver.until((got) => got.some((r) => r.json.data.job_id === jobId));
    const hook = receiver.received.find((r) => r.json.data.job_id === jobId)!;
    expect(hook.json.event).toBe('job.succeeded');
    // ImgGo's documented fields, unchanged.
    expect(hook.json.data).toMatchObject({
      job_id: jobId,
      pattern_id: patternId,
      status: 'succeeded',
      result: { invoice_number: 'INV-7', total: 63 },
    });
    expect(hook.json.data.document).toEqual({ pages: 3, pages_sent: 2, blank_pages: [2], conflicts: [] });
    const image = imageForm(await textImage(['Invoice INV-78']), 'hooked.png', 'image', 'image/png');
    image.append('webhook_url', receiver.url);
    const imageJob = (await ingest(image)).body.data.job_id;
    await receiver.until((got) => got.some((r) => r.json.data.job_id === imageJob));
    expect(receiver.received.find((r) => r.json.data.job_id === imageJob)?.json.data.document).toBeNull();
  });

  it('a PDF by image_url is read the same way', async () => {
    const mark = billed;
    const answer = await ingest({ image_url: `${files.url}/invoice.pdf` });
    expect(answer.status).toBe(202);
    const job: JobData = await waitForJob(svc.api, key, answer.body.data.job_id);
    expect(job.status).toBe('succeeded');
    expect(job.document).toMatchObject({ pages: 2, pages_sent: 2, blank_pages: [] });
    expect(billed - mark).toBe(1);
  });

  it('a multi-page TIFF by image_base64 is one job over its pages', async () => {
    const tiff = await multiPageTiff([await textImage(['Invoice INV-9']), await textImage(['Total 7'])]);
    const mark = billed;
    const answer = await ingest({ image_base64: tiff.toString('base64') });
    expect(answer.status).toBe(202);
    const job: JobData = await waitForJob(svc.api, key, answer.body.data.job_id);
    expect(job.status).toBe('succeeded');
    expect(job.document).toMatchObject({ pages: 2, pages_sent: 2 });
    expect(billed - mark).toBe(1);
  });

  it('an image job has no page facts', async () => {
    const answer = await ingest(
      imageForm(await textImage(['Invoice INV-10']), 'scan.png', 'image', 'image/png'),
    );
    const job: JobData = await waitForJob(svc.api, key, answer.body.data.job_id);
    expect(job.status).toBe('succeeded');
    expect(job.document).toBeNull();
  });

  it(`a PDF over --max-pages ${MAX_PAGES} is refused at the door, naming both counts, nothing queued`, async () => {
    const mark = billed;
    const before = await svc.store.jobs.list({ page: 1, perPage: 1 });
    const pdf = await makePdf(numberedPages(MAX_PAGES + 1, 2));
    const answer = await ingest(imageForm(pdf, 'long.pdf', 'image', 'application/pdf'));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      success: false,
      error: { code: 'too_many_pages', details: { pages: MAX_PAGES + 1, max_pages: MAX_PAGES } },
    });
    expect(contract.check('POST', '/api/patterns/{id}/ingest', 400, answer.body)).toEqual([]);
    const after = await svc.store.jobs.list({ page: 1, perPage: 1 });
    expect(after.total).toBe(before.total);
    expect(billed).toBe(mark);
  });

  it('a damaged PDF is refused with invalid_document', async () => {
    const answer = await ingest(
      imageForm(Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n'), 'x.pdf', 'image', 'application/pdf'),
    );
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ success: false, error: { code: 'invalid_document' } });
  });
});
