/**
 * Ingest against a real service (PostgreSQL, Redis, BullMQ, the pipeline) whose provider
 * is the simulator, which counts what it would bill: idempotency keys (header and body)
 * and concurrent duplicates give one provider call; bad uploads get ImgGo-shaped errors
 * before anything is queued; a bad image that passes the door fails its job with a
 * string error, as ImgGo's clients read it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, type JobData, noiseJpeg, waitForJob } from '../support/api-client.js';
import { startServer, type TestServer } from '../support/http.js';
import { Contract } from '../support/openapi.js';
import { startTestService, type TestService } from '../support/service.js';

const MAX_UPLOAD = 200_000;
let sim: Simulator;
let svc: TestService;
let key: string;
let patternId: string;
let images: TestServer;
let billed = 0;
const contract = new Contract();

/** Provider calls billed since `mark` (tests run one after another; each waits for its jobs). */
const paidSince = (mark: number) => billed - mark;

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 400, maxMs: 400 },
    answer: () => ({ merchant: 'Blue Bottle', total: 8.99 }),
    onBilled: () => {
      billed++;
    },
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    concurrency: 8,
    maxUploadBytes: MAX_UPLOAD,
  });
  key = await svc.key(['patterns:write', 'patterns:ingest', 'jobs:read']);
  const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
    key,
    json: {
      name: 'Receipt',
      instructions: 'Read the receipt',
      json_schema: { merchant: 'string', total: 'number' },
    },
  });
  patternId = created.body.data.id;
  const big = await noiseJpeg(400);
  images = await startServer((req, res) => {
    if (req.url === '/big.jpg') {
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(big);
      return;
    }
    res.writeHead(404).end('not here');
  });
});

afterAll(async () => {
  await svc?.close();
  await sim?.close();
  await images?.close();
});

const ingest = (form: FormData, headers: Record<string, string> = {}) =>
  call<{ data: { job_id: string; status: string } }>(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
    key,
    form,
    headers,
  });

describe('idempotency and duplicates', () => {
  it('20 concurrent ingests with one Idempotency-Key: one job, one provider call', async () => {
    const image = await distinctJpeg(101);
    const mark = billed;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        ingest(imageForm(image), { 'Idempotency-Key': 'receipt-101.jpg-1700000000' }),
      ),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202, 200]));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    const ids = new Set(answers.map((a) => a.body.data.job_id));
    expect(ids.size).toBe(1);
    const job = await waitForJob(svc.api, key, [...ids][0]!);
    expect(job).toMatchObject({ status: 'succeeded', manifest: { merchant: 'Blue Bottle', total: 8.99 } });
    expect(paidSince(mark)).toBe(1);
  });

  it('the body field idempotency_key works the same, and must agree with the header', async () => {
    const image = await distinctJpeg(102);
    const mark = billed;
    const form = () => {
      const f = imageForm(image);
      f.set('idempotency_key', 'body-key-102');
      return f;
    };
    const answers = await Promise.all(Array.from({ length: 5 }, () => ingest(form())));
    expect(new Set(answers.map((a) => a.body.data.job_id)).size).toBe(1);
    const clash = await ingest(form(), { 'Idempotency-Key': 'other-key' });
    expect(clash.status).toBe(400);
    expect(clash.body).toMatchObject({ success: false, error: { code: 'validation_error' } });
    await waitForJob(svc.api, key, answers[0]!.body.data.job_id);
    expect(paidSince(mark)).toBe(1);
  });

  it('a key reused for another image is refused (422), not answered with the wrong job', async () => {
    const first = await ingest(imageForm(await distinctJpeg(103)), { 'Idempotency-Key': 'reused-103' });
    await waitForJob(svc.api, key, first.body.data.job_id);
    const other = await ingest(imageForm(await distinctJpeg(104)), { 'Idempotency-Key': 'reused-103' });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ success: false, error: { code: 'idempotency_key_reused' } });
  });

  it('20 concurrent ingests of one image without keys: 20 jobs, one provider call, the others dedup', async () => {
    const image = await distinctJpeg(105);
    const mark = billed;
    const answers = await Promise.all(Array.from({ length: 20 }, () => ingest(imageForm(image))));
    const ids = answers.map((a) => a.body.data.job_id);
    expect(new Set(ids).size).toBe(20);
    const jobs = await Promise.all(ids.map((id) => waitForJob(svc.api, key, id)));
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
    expect(paidSince(mark)).toBe(1);
    const paying = jobs.filter((j) => j.cache === 'miss');
    expect(paying).toHaveLength(1);
    expect(paying[0]!.cost_usd).toBeGreaterThan(0);
    // The job carries what the call took: attempts, latency, tokens (issue 14).
    const paid = paying[0] as JobData & {
      latency_ms: number;
      usage: { input_tokens: number; output_tokens: number };
    };
    expect(paid.attempts).toBe(1);
    expect(paid.latency_ms).toBeGreaterThan(0);
    expect(paid.usage.input_tokens).toBeGreaterThan(0);
    expect(paid.usage.output_tokens).toBeGreaterThan(0);
    // Shared while in flight (dedup), or read from the stored result if it came after (hit): never null.
    for (const other of jobs.filter((j) => j.cache !== 'miss'))
      expect(['dedup', 'hit']).toContain(other.cache);
    expect(jobs.filter((j) => j.cache !== 'miss').every((j) => j.cost_usd === 0 && j.attempts === 0)).toBe(
      true,
    );

    // Later: finished at once from the stored result (200, with the manifest), still one call.
    const again = await ingest(imageForm(image));
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ status: 'succeeded', manifest: { merchant: 'Blue Bottle' } });
    expect(again.text).not.toContain('"error"');
    expect(paidSince(mark)).toBe(1);
  });
});

describe('image sources', () => {
  it('takes multipart field "file", JSON image_base64 and image_url; extras and webhook_url are kept', async () => {
    const a = await ingest(imageForm(await distinctJpeg(201), 'a.jpg', 'file'));
    const b = await call<{ data: { job_id: string } }>(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
      key,
      json: {
        image_base64: (await distinctJpeg(202)).toString('base64'),
        extras: { source: 'mobile-app' },
        webhook_url: 'https://example.com/hook',
      },
    });
    expect([a.status, b.status]).toEqual([202, 202]);
    await waitForJob(svc.api, key, a.body.data.job_id);
    const job = await waitForJob(svc.api, key, b.body.data.job_id);
    expect(job).toMatchObject({ extras: { source: 'mobile-app' }, webhook_url: 'https://example.com/hook' });
    expect(String(job.image_url)).toMatch(/\/api\/uploads\/[0-9a-f]{64}$/);
    const upload = await fetch(String(job.image_url), { headers: { authorization: `Bearer ${key}` } });
    expect(upload.headers.get('content-type')).toBe('image/jpeg');
    expect(contract.check('GET', '/api/jobs/{id}', 200, { success: true, data: job })).toEqual([]);
  });
});

describe('bad uploads get ImgGo-shaped errors and queue nothing', () => {
  const cases: Array<[string, () => Promise<FormData | Record<string, unknown>>, number, string, RegExp?]> = [
    ['an upload over the size limit', async () => imageForm(await noiseJpeg(400)), 400, 'image_too_large'],
    [
      'base64 over the size limit',
      async () => ({ image_base64: (await noiseJpeg(401)).toString('base64') }),
      400,
      'image_too_large',
    ],
    [
      'an image_url over the size limit',
      async () => ({ image_url: `${images.url}/big.jpg` }),
      400,
      'image_too_large',
    ],
    [
      'a text file named .jpg',
      async () => imageForm(Buffer.from('hello, this is not an image\n'.repeat(20)), 'x.jpg'),
      400,
      'unsupported_format',
      /text file/,
    ],
    [
      'a PDF that cannot be opened (documents: test/service/documents.test.ts)',
      async () =>
        imageForm(
          Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n'),
          'invoice.pdf',
          'image',
          'application/pdf',
        ),
      400,
      'invalid_document',
      /invoice\.pdf/,
    ],
    ['an empty file', async () => imageForm(Buffer.alloc(0)), 400, 'invalid_image'],
    ['no image at all', async () => ({ extras: { a: 1 } }), 400, 'missing_field'],
    [
      'a file in a field the route does not read',
      async () => imageForm(await distinctJpeg(404), 'a.jpg', 'photo'),
      400,
      'missing_field',
      /field 'photo'.*field 'image' \(or 'file'\)/,
    ],
    [
      'two files, in fields image and file',
      async () => {
        const form = imageForm(await distinctJpeg(405), 'a.jpg', 'image');
        form.set(
          'file',
          new Blob([new Uint8Array(await distinctJpeg(406))], { type: 'image/jpeg' }),
          'b.jpg',
        );
        return form;
      },
      400,
      'validation_error',
      /one image per ingest, one file in field 'image' or 'file': 2 or more files came/,
    ],
    [
      'three files, past the multipart file limit',
      async () => {
        const form = imageForm(await distinctJpeg(407), 'a.jpg', 'image');
        for (const [seed, name] of [
          [408, 'b.jpg'],
          [409, 'c.jpg'],
        ] as const)
          form.append(
            'file',
            new Blob([new Uint8Array(await distinctJpeg(seed))], { type: 'image/jpeg' }),
            name,
          );
        return form;
      },
      400,
      'validation_error',
      /one image per ingest/,
    ],
    [
      'base64 so far over the size limit that the JSON body passes its limit (not a 413)',
      async () => ({ image_base64: randomBytes(MAX_UPLOAD * 2).toString('base64') }),
      400,
      'image_too_large',
      new RegExp(`maximum size of ${MAX_UPLOAD} bytes`),
    ],
    [
      'a webhook_url that is not http(s)',
      async () => ({
        image_base64: (await distinctJpeg(410)).toString('base64'),
        webhook_url: 'ftp://example.com/hook',
      }),
      400,
      'invalid_webhook_url',
      /http or https/,
    ],
    ['base64 that is not base64', async () => ({ image_base64: '***not base64***' }), 400, 'invalid_image'],
    [
      'an image_url that answers 404',
      async () => ({ image_url: `${images.url}/missing.jpg` }),
      400,
      'invalid_image_url',
    ],
    [
      'an image_url that is not http',
      async () => ({ image_url: 'ftp://example.com/a.jpg' }),
      400,
      'validation_error',
    ],
    [
      'extras that are not an object',
      async () => ({ image_url: `${images.url}/x`, extras: 'nope' }),
      400,
      'validation_error',
    ],
  ];

  for (const [name, body, status, code, message] of cases) {
    it(name, async () => {
      const made = await body();
      const answer = await call(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
        key,
        ...(made instanceof FormData ? { form: made } : { json: made }),
      });
      expect(answer.status).toBe(status);
      expect(answer.body).toMatchObject({ success: false, error: { code } });
      if (message) expect((answer.body as { error: { message: string } }).error.message).toMatch(message);
      expect(contract.check('POST', '/api/patterns/{id}/ingest', status, answer.body)).toEqual([]);
      expect(answer.headers.get('x-request-id')).toMatch(/^req_/);
    });
  }

  /** A POST to the ingest route with a raw body of the given content type. */
  const rawIngest = async (body: Buffer | string, contentType: string) => {
    const response = await fetch(`${svc.api}/patterns/${patternId}/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: response.status, body: (await response.json()) as { error: Record<string, unknown> } };
  };

  it('raw image bytes (Content-Type: image/jpeg): 415 unsupported_media_type, saying what to send', async () => {
    const answer = await rawIngest(await distinctJpeg(411), 'image/jpeg');
    expect(answer.status).toBe(415);
    expect(answer.body.error).toMatchObject({ code: 'unsupported_media_type' });
    expect(answer.body.error.message).toMatch(/multipart\/form-data/);
  });

  it('a body that is not valid JSON: 400 validation_error naming the body', async () => {
    const answer = await rawIngest('{"image_url": ', 'application/json');
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'validation_error', details: { field: 'body' } });
  });

  it('nothing of them reached the queue or the database', async () => {
    const { total } = await svc.store.jobs.list({ page: 1, perPage: 1, status: 'failed' });
    expect(total).toBe(0);
  });

  it('JPEG magic then bytes no decoder reads: 400 invalid_image at ingest (the header is read), not a 202', async () => {
    const jpeg = await distinctJpeg(303);
    for (const broken of [
      Buffer.concat([jpeg.subarray(0, 40), Buffer.alloc(200, 0x11)]),
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(2000)]),
    ]) {
      const answer = await call(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
        key,
        form: imageForm(broken),
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({
        error: { code: 'invalid_image', details: { reason: 'IMAGE_DECODE' } },
      });
    }
  });

  it('a JPEG whose header reads but whose body is cut short: 202, then its job fails with a string error', async () => {
    const jpeg = await noiseJpeg(300);
    const broken = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    const answer = await ingest(imageForm(broken));
    expect(answer.status).toBe(202);
    const job: JobData = await waitForJob(svc.api, key, answer.body.data.job_id);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('IMAGE_DECODE');
    expect(typeof job.error).toBe('string');
    expect(job.manifest).toBeNull();
  });
});
