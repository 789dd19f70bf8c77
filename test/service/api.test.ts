/**
 * The API against ImgGo's contract, on a real service: answers validated against the
 * OpenAPI file, the file's own request examples accepted, every route's scope enforced,
 * the per-key rate limit with its headers, request ids, pattern versions, job listings
 * and renderings, health and readiness.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, type JobData, waitForJob } from '../support/api-client.js';
import { Contract } from '../support/openapi.js';
import { startTestService, type TestService } from '../support/service.js';
import { answerSchemaFields } from '../support/simulator-fixtures.js';

const contract = new Contract();
let sim: Simulator;
let svc: TestService;
let admin: string;

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 50, maxMs: 50 },
    answer: answerSchemaFields(),
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    rateLimit: { limit: 100_000, intervalMs: 60_000 },
  });
  admin = await svc.key(['admin:all']);
});

afterAll(async () => {
  await svc?.close();
  await sim?.close();
});

const receipt = {
  name: 'Receipt',
  format: 'json',
  instructions: 'Read the receipt',
  json_schema: { merchant: 'string', date: 'date', total: 'number' },
};

async function createPattern(body: Record<string, unknown>, key = admin) {
  const answer = await call<{ data: { id: string; version: number } }>(svc.api, 'POST', '/patterns', {
    key,
    json: body,
  });
  expect(answer.status, answer.text).toBe(201);
  return answer.body.data;
}

async function finishedJob(patternId: string, seed: number): Promise<JobData> {
  const answer = await call<{ data: { job_id: string } }>(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
    key: admin,
    form: imageForm(await distinctJpeg(seed)),
  });
  return waitForJob(svc.api, admin, answer.body.data.job_id);
}

describe('the OpenAPI contract', () => {
  it("accepts the file's CreatePatternRequest and UpdatePatternRequest examples; answers conform", async () => {
    const example = contract.component('CreatePatternRequest').example as Record<string, unknown>;
    const created = await call(svc.api, 'POST', '/patterns', { key: admin, json: example });
    expect(created.status).toBe(201);
    expect(contract.check('POST', '/api/patterns', 201, created.body)).toEqual([]);
    const id = (created.body as { data: { id: string } }).data.id;

    const listed = await call(svc.api, 'GET', '/patterns?page=1&per_page=5', { key: admin });
    expect(contract.check('GET', '/api/patterns', 200, listed.body)).toEqual([]);
    const one = await call(svc.api, 'GET', `/patterns/${id}`, { key: admin });
    expect(contract.check('GET', '/api/patterns/{id}', 200, one.body)).toEqual([]);

    const update = contract.component('UpdatePatternRequest').example as Record<string, unknown>;
    const updated = await call(svc.api, 'PATCH', `/patterns/${id}`, { key: admin, json: update });
    expect(updated.status).toBe(200);
    expect(contract.check('PATCH', '/api/patterns/{id}', 200, updated.body)).toEqual([]);
    expect(updated.body).toMatchObject({ data: { name: 'Updated Product Extraction', version: 1 } });

    const deleted = await call(svc.api, 'DELETE', `/patterns/${id}`, { key: admin });
    expect(contract.check('DELETE', '/api/patterns/{id}', 200, deleted.body)).toEqual([]);
    const gone = await call(svc.api, 'GET', `/patterns/${id}`, { key: admin });
    expect(gone.status).toBe(404);
    expect(contract.check('GET', '/api/patterns/{id}', 404, gone.body)).toEqual([]);
  });

  it('ingest and job answers conform, queued and finished', async () => {
    const pattern = await createPattern({ ...receipt, name: 'contract receipt' });
    const queued = await call<{ data: { job_id: string } }>(
      svc.api,
      'POST',
      `/patterns/${pattern.id}/ingest`,
      {
        key: admin,
        form: imageForm(await distinctJpeg(1)),
      },
    );
    expect(queued.status).toBe(202);
    expect(contract.check('POST', '/api/patterns/{id}/ingest', 202, queued.body)).toEqual([]);
    const early = await call(svc.api, 'GET', `/jobs/${queued.body.data.job_id}`, { key: admin });
    expect(contract.check('GET', '/api/jobs/{id}', 200, early.body)).toEqual([]);
    const job = await waitForJob(svc.api, admin, queued.body.data.job_id);
    expect(job).toMatchObject({ status: 'succeeded', manifest: { merchant: 'Blue Bottle', total: 8.99 } });
    expect(contract.check('GET', '/api/jobs/{id}', 200, { success: true, data: job })).toEqual([]);
    // One `status` key, as ImgGo's curl example greps for it.
    const raw = await call(svc.api, 'GET', `/jobs/${job.id}`, { key: admin });
    expect(raw.text.match(/"status":"/g)).toHaveLength(1);
  });

  it('health answers in HealthResponse shape; readiness sees the worker', async () => {
    for (const path of ['/_health', '/api/_health']) {
      const health = await call(svc.url, 'GET', path);
      expect(health.status).toBe(200);
      expect(contract.check('GET', '/api/_health', 200, health.body)).toEqual([]);
      expect(health.body).toMatchObject({ status: 'healthy', services: { database: 'up', queue: 'up' } });
    }
    const ready = await call(svc.url, 'GET', '/_ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', checks: { workers: 1, migrations: 'current' } });
  });
});

describe('auth and scopes', () => {
  /** Every authenticated route with the scope it needs. */
  const routes: Array<[string, string, string]> = [
    ['GET', '/patterns', 'patterns:read'],
    ['POST', '/patterns', 'patterns:write'],
    ['GET', '/patterns/{id}', 'patterns:read'],
    ['PATCH', '/patterns/{id}', 'patterns:write'],
    ['DELETE', '/patterns/{id}', 'patterns:delete'],
    ['GET', '/patterns/{id}/versions', 'patterns:read'],
    ['POST', '/patterns/{id}/versions/switch', 'patterns:write'],
    ['POST', '/patterns/{id}/ingest', 'patterns:ingest'],
    ['GET', '/jobs', 'jobs:read'],
    ['GET', '/jobs/{id}', 'jobs:read'],
  ];
  const ALL = ['patterns:read', 'patterns:write', 'patterns:ingest', 'patterns:delete', 'jobs:read'];
  const somePath = (path: string) => path.replace('{id}', '3f1f6a0e-6a57-4d0c-9d5b-6f3d2a1b0c9e');

  it('refuses a missing or malformed Authorization header (401 missing_authorization)', async () => {
    for (const [method, path] of routes) {
      const variants: Array<Record<string, string>> = [
        {},
        { authorization: 'Basic dXNlcjpwYXNz' },
        { authorization: 'Bearer' },
      ];
      for (const headers of variants) {
        const answer = await call(svc.api, method, somePath(path), { headers });
        expect(answer.status, `${method} ${path}`).toBe(401);
        expect(answer.body).toMatchObject({ success: false, error: { code: 'missing_authorization' } });
      }
    }
  });

  it('refuses unknown, revoked and expired keys (401 invalid_api_key)', async () => {
    const revoked = await svc.store.keys.create({ name: 'revoked', scopes: ['admin:all'] });
    await svc.store.keys.revoke(revoked.id);
    const expired = await svc.store.keys.create({
      name: 'expired',
      scopes: ['admin:all'],
      expiresAt: new Date(Date.now() - 1000),
    });
    for (const key of [`${admin}x`, 'vpk_nothing', revoked.key, expired.key]) {
      const answer = await call(svc.api, 'GET', '/patterns', { key });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ success: false, error: { code: 'invalid_api_key' } });
      expect(contract.check('GET', '/api/patterns', 401, answer.body)).toEqual([]);
    }
  });

  it('every route needs its scope (403 insufficient_permissions names it); admin:all and area:* grant', async () => {
    for (const [method, path, scope] of routes) {
      const without = await svc.key(ALL.filter((s) => s !== scope));
      const body = method === 'GET' || method === 'DELETE' ? {} : { json: {} };
      const answer = await call(svc.api, method, somePath(path), { key: without, ...body });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body).toMatchObject({
        success: false,
        error: { code: 'insufficient_permissions', details: { required_scope: scope } },
      });
      for (const granted of [[scope], ['admin:all'], [`${scope.split(':')[0]}:*`]]) {
        const allowed = await call(svc.api, method, somePath(path), { key: await svc.key(granted), ...body });
        expect(allowed.status, `${method} ${path} with ${granted}`).not.toBe(403);
        expect(allowed.status).not.toBe(401);
      }
    }
  });

  it('health checks are public', async () => {
    expect((await call(svc.url, 'GET', '/_health')).status).toBe(200);
  });
});

describe('request ids and rate limits', () => {
  it("keeps the caller's X-Request-ID, makes one otherwise, and puts it in error bodies", async () => {
    const given = await call(svc.api, 'GET', '/patterns', {
      key: admin,
      headers: { 'x-request-id': 'client-42' },
    });
    expect(given.headers.get('x-request-id')).toBe('client-42');
    const bad = await call(svc.api, 'GET', '/jobs/nope', {
      key: admin,
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(bad.status).toBe(404);
    const id = bad.headers.get('x-request-id');
    expect(id).toMatch(/^req_[0-9a-f-]{36}$/);
    expect(bad.body).toMatchObject({ success: false, error: { code: 'job_not_found' }, request_id: id });
  });

  it('limits each key: X-RateLimit-* on every answer, then 429 with Retry-After; other keys unaffected', async () => {
    const limited = await startTestService({
      shared: { database: svc.database, prefix: `${svc.prefix}-rl` },
      workers: 0,
      rateLimit: { limit: 4, intervalMs: 60_000 },
    });
    try {
      const key = await limited.key(['patterns:read']);
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await call(limited.api, 'GET', '/patterns', { key }));
      // A burst of half the limit goes at once; the rest is spread over the minute.
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      expect(answers.map((a) => a.headers.get('x-ratelimit-limit'))).toEqual(['4', '4', '4']);
      expect(answers.map((a) => a.headers.get('x-ratelimit-remaining'))).toEqual(['1', '0', '0']);
      const reset = Number(answers[2]!.headers.get('x-ratelimit-reset'));
      expect(reset).toBeGreaterThan(Date.now() / 1000);
      expect(reset).toBeLessThanOrEqual(Date.now() / 1000 + 61);
      const retryAfter = Number(answers[2]!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(30);
      expect(answers[2]!.body).toMatchObject({ success: false, error: { code: 'rate_limit_exceeded' } });
      expect(contract.check('POST', '/api/patterns/{id}/ingest', 429, answers[2]!.body)).toEqual([]);
      const other = await call(limited.api, 'GET', '/patterns', {
        key: await limited.key(['patterns:read']),
      });
      expect(other.status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('patterns', () => {
  it('takes all five schema forms and the docs variant (output_format, schema)', async () => {
    const forms = [
      { format: 'yaml', yaml_schema: 'merchant: Blue Bottle\ntotal: 8.99\n' },
      { format: 'xml', xml_schema: '<receipt><merchant>A</merchant><total>1.5</total></receipt>' },
      { format: 'csv', csv_schema: 'merchant;total', csv_delimiter: 'semicolon' },
      { format: 'text', plain_text_schema: '# Merchant\n# Total\n' },
      { output_format: 'json', schema: { vendor_name: 'string', total_amount: 'number' } },
    ];
    for (const [i, form] of forms.entries()) {
      const created = await createPattern({ name: `form ${i}`, instructions: 'Read it', ...form });
      expect(created.version).toBe(1);
    }
  });

  it('refuses schemas the pipeline cannot run (400 invalid_schema) and duplicate names (409)', async () => {
    const bad = await call(svc.api, 'POST', '/patterns', {
      key: admin,
      json: { name: 'bad', instructions: 'x', format: 'csv' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ success: false, error: { code: 'invalid_schema' } });
    expect(contract.check('POST', '/api/patterns', 400, bad.body)).toEqual([]);
    const missing = await call(svc.api, 'POST', '/patterns', {
      key: admin,
      json: { name: 'no instructions' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: { code: 'validation_error' } });
    const ftpHook = await call(svc.api, 'POST', '/patterns', {
      key: admin,
      json: { ...receipt, name: 'ftp hook', webhook_url: 'ftp://example.com/hook' },
    });
    expect(ftpHook.status).toBe(400);
    expect(ftpHook.body).toMatchObject({
      error: { code: 'invalid_webhook_url', details: { field: 'webhook_url' } },
    });
    const twoForms = await call(svc.api, 'POST', '/patterns', {
      key: admin,
      json: { ...receipt, name: 'two forms', yaml_schema: 'merchant: A\n' },
    });
    expect(twoForms.status).toBe(400);
    expect(twoForms.body).toMatchObject({
      error: { code: 'invalid_schema', details: { fields: ['json_schema', 'yaml_schema'] } },
    });
    for (const [i, schema] of [{ type: 'banana' }, { type: 'banana', description: 'a fruit' }].entries()) {
      const banana = await call(svc.api, 'POST', '/patterns', {
        key: admin,
        json: { ...receipt, name: `banana ${i}`, json_schema: schema },
      });
      expect(banana.status, JSON.stringify(schema)).toBe(400);
      expect(banana.body).toMatchObject({ error: { code: 'invalid_schema' } });
      expect((banana.body as { error: { message: string } }).error.message).toMatch(/"banana" is not one of/);
    }
    // Look-alikes that are example objects still work.
    const examples = [
      { type: 'sedan', color: 'red' },
      { type: 'date' },
      { type: 'string' },
      { type: 'email' },
    ];
    for (const [i, schema] of examples.entries())
      await createPattern({ ...receipt, name: `look-alike ${i}`, json_schema: schema });
    const colour = await createPattern({ ...receipt, name: 'colour' });
    const misspelt = await call<{ error: { code: string; message: string; details: { field: string } } }>(
      svc.api,
      'PATCH',
      `/patterns/${colour.id}`,
      { key: admin, json: { colour: 'red' } },
    );
    expect(misspelt.status).toBe(400);
    expect(misspelt.body.error).toMatchObject({ code: 'validation_error', details: { field: 'colour' } });
    expect(misspelt.body.error.message).toMatch(/unknown field 'colour'/);
    await createPattern({ ...receipt, name: 'taken' });
    const again = await call(svc.api, 'POST', '/patterns', {
      key: admin,
      json: { ...receipt, name: 'taken' },
    });
    expect(again.status).toBe(409);
  });

  it('publishes versions, lists them, switches back; jobs run against the version they were ingested under', async () => {
    const pattern = await createPattern({ ...receipt, name: 'versioned' });
    const v1 = await finishedJob(pattern.id, 11);
    const published = await call(svc.api, 'PATCH', `/patterns/${pattern.id}`, {
      key: admin,
      json: { json_schema: { merchant: 'string', total: 'number' }, publish_new_version: true },
    });
    expect(published.body).toMatchObject({ data: { version: 2, new_version: 2 } });
    const v2 = await finishedJob(pattern.id, 11);
    expect([v1.pattern_version, v2.pattern_version]).toEqual([1, 2]);
    expect(v1.manifest).toEqual({ merchant: 'Blue Bottle', date: '2024-03-22', total: 8.99 });
    expect(v2.manifest).toEqual({ merchant: 'Blue Bottle', total: 8.99 });

    const versions = await call<{ data: { versions: Array<{ version: number }> } }>(
      svc.api,
      'GET',
      `/patterns/${pattern.id}/versions`,
      { key: admin },
    );
    expect(versions.body.data.versions.map((v) => v.version)).toEqual([2, 1]);
    const switched = await call(svc.api, 'POST', `/patterns/${pattern.id}/versions/switch`, {
      key: admin,
      json: { version: 1 },
    });
    expect(switched.body).toMatchObject({
      data: { pattern: { version: 1 }, message: 'Switched to version 1' },
    });
    // Back on version 1, the same image is the same work: answered from the stored result.
    const back = await finishedJob(pattern.id, 11);
    expect(back).toMatchObject({ pattern_version: 1, cache: 'hit', cost_usd: 0 });
    const none = await call(svc.api, 'POST', `/patterns/${pattern.id}/versions/switch`, {
      key: admin,
      json: { version: 9 },
    });
    expect(none.status).toBe(404);
  });

  it('an inactive pattern takes no images', async () => {
    const pattern = await createPattern({ ...receipt, name: 'inactive', is_active: false });
    const answer = await call(svc.api, 'POST', `/patterns/${pattern.id}/ingest`, {
      key: admin,
      form: imageForm(await distinctJpeg(12)),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'pattern_inactive' } });
  });
});

describe('jobs', () => {
  it('renders a finished manifest as yaml, xml, csv and text with X-Job-* headers', async () => {
    const pattern = await createPattern({ ...receipt, name: 'renderings' });
    const job = await finishedJob(pattern.id, 21);
    const yaml = await call(svc.api, 'GET', `/jobs/${job.id}?format=yaml`, { key: admin });
    expect(yaml.headers.get('content-type')).toMatch(/yaml/);
    expect(parseYaml(yaml.text)).toEqual({ merchant: 'Blue Bottle', date: '2024-03-22', total: 8.99 });
    expect(yaml.headers.get('x-job-id')).toBe(job.id);
    expect(yaml.headers.get('x-job-status')).toBe('succeeded');
    expect(yaml.headers.get('x-pattern-id')).toBe(pattern.id);
    const xml = await call(svc.api, 'GET', `/jobs/${job.id}?format=xml`, { key: admin });
    expect(xml.text).toContain('<merchant>Blue Bottle</merchant>');
    const csv = await call(svc.api, 'GET', `/jobs/${job.id}?format=csv`, { key: admin });
    expect(csv.text.split(/\r?\n/)[0]).toBe('merchant,date,total');
    const text = await call(svc.api, 'GET', `/jobs/${job.id}?format=text`, { key: admin });
    expect(text.text).toContain('Blue Bottle');
    const json = await call(svc.api, 'GET', `/jobs/${job.id}?format=json`, { key: admin });
    expect(json.body).toMatchObject({ success: true, data: { id: job.id } });
    for (const answer of [json, await call(svc.api, 'GET', `/jobs/${job.id}`, { key: admin })]) {
      expect(answer.headers.get('x-job-id')).toBe(job.id);
      expect(answer.headers.get('x-job-status')).toBe('succeeded');
      expect(answer.headers.get('x-pattern-id')).toBe(pattern.id);
    }
    const bad = await call(svc.api, 'GET', `/jobs/${job.id}?format=pdf`, { key: admin });
    expect(bad.status).toBe(400);
  });

  it('lists jobs by pattern and status (the clients’ words too), newest first, paged', async () => {
    const pattern = await createPattern({ ...receipt, name: 'listing' });
    for (const seed of [31, 32, 33]) await finishedJob(pattern.id, seed);
    const page = await call<{ data: { data: JobData[]; pagination: Record<string, number> } }>(
      svc.api,
      'GET',
      `/jobs?pattern_id=${pattern.id}&status=completed&per_page=2`,
      { key: admin },
    );
    expect(page.status).toBe(200);
    expect(page.body.data.data).toHaveLength(2);
    expect(page.body.data.pagination).toEqual({ page: 1, per_page: 2, total: 3, total_pages: 2 });
    const second = await call<{ data: { data: JobData[]; pagination: Record<string, number> } }>(
      svc.api,
      'GET',
      `/jobs?pattern_id=${pattern.id}&status=succeeded&per_page=2&page=2`,
      { key: admin },
    );
    expect(second.body.data.pagination).toEqual({ page: 2, per_page: 2, total: 3, total_pages: 2 });
    const seen = [...page.body.data.data, ...second.body.data.data].map((j) => j.id);
    expect(new Set(seen).size).toBe(3);
    const failed = await call<{ data: { data: JobData[] } }>(
      svc.api,
      'GET',
      `/jobs?pattern_id=${pattern.id}&status=failed`,
      {
        key: admin,
      },
    );
    expect(failed.body.data.data).toEqual([]);
  });

  it('unknown and malformed job ids are 404 job_not_found', async () => {
    for (const id of ['3f1f6a0e-6a57-4d0c-9d5b-6f3d2a1b0c9e', 'not-a-uuid']) {
      const answer = await call(svc.api, 'GET', `/jobs/${id}`, { key: admin });
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: 'job_not_found' } });
      expect(contract.check('GET', '/api/jobs/{id}', 404, answer.body)).toEqual([]);
    }
  });
});
