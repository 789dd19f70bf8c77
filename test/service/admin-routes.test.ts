/**
 * ImgGo's `/api-keys` routes (create shown once, list without secrets, revoke takes
 * effect at once, admin only, answers per the OpenAPI file), `model_profile` refused
 * unless it is the server's own model, and a pattern edited in place while a job waits
 * in the queue: the job runs the pattern it was accepted with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, waitForJob } from '../support/api-client.js';
import { Contract } from '../support/openapi.js';
import { startTestService, type TestService } from '../support/service.js';
import { answerSchemaFields } from '../support/simulator-fixtures.js';

const contract = new Contract();
let sim: Simulator;
let svc: TestService;
let admin: string;

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 1500, maxMs: 1500 },
    answer: answerSchemaFields(),
  });
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    workers: 1,
    concurrency: 1,
  });
  admin = await svc.key(['admin:all']);
});

afterAll(async () => {
  await svc?.close();
  await sim?.close();
});

describe('/api-keys', () => {
  it('creates a key shown once, lists it without the secret, revokes it at once', async () => {
    const created = await call<{ data: { id: string; key: string; scopes: string[] } }>(
      svc.api,
      'POST',
      '/api-keys',
      { key: admin, json: { name: 'ci', scopes: ['patterns:read', 'jobs:read'] } },
    );
    expect(created.status, created.text).toBe(201);
    expect(contract.check('POST', '/api/api-keys', 201, created.body)).toEqual([]);
    const { id, key } = created.body.data;
    expect(created.body.data.scopes).toEqual(['patterns:read', 'jobs:read']);

    expect((await call(svc.api, 'GET', '/patterns', { key })).status).toBe(200);
    expect((await call(svc.api, 'POST', '/patterns', { key, json: { name: 'x' } })).status).toBe(403);

    const listed = await call<{ data: { id: string }[] }>(svc.api, 'GET', '/api-keys', { key: admin });
    expect(contract.check('GET', '/api/api-keys', 200, listed.body)).toEqual([]);
    expect(listed.body.data.map((k) => k.id)).toContain(id);
    expect(listed.text).not.toContain(key);

    const revoked = await call(svc.api, 'DELETE', `/api-keys/${id}`, { key: admin });
    expect(revoked.status).toBe(200);
    expect(contract.check('DELETE', '/api/api-keys/{id}', 200, revoked.body)).toEqual([]);
    expect((await call(svc.api, 'GET', '/patterns', { key })).status).toBe(401);
    expect((await call(svc.api, 'DELETE', `/api-keys/${id}`, { key: admin })).status).toBe(404);
  });

  it('refuses to revoke the last active admin:all key (409 naming visionpipe keys create); others go', async () => {
    const second = await call<{ data: { id: string } }>(svc.api, 'POST', '/api-keys', {
      key: admin,
      json: { name: 'second admin', scopes: ['admin:all'] },
    });
    expect(second.status, second.text).toBe(201);
    const active = await call<{ data: { id: string; key_prefix: string; scopes: string[] }[] }>(
      svc.api,
      'GET',
      '/api-keys',
      { key: admin },
    );
    const own = active.body.data.find((k) => admin.startsWith(k.key_prefix));
    if (!own) throw new Error('the admin key is not listed');
    for (const other of active.body.data.filter((k) => k.scopes.includes('admin:all') && k.id !== own.id))
      expect((await call(svc.api, 'DELETE', `/api-keys/${other.id}`, { key: admin })).status).toBe(200);
    const self = await call<{ error: { code: string; message: string } }>(
      svc.api,
      'DELETE',
      `/api-keys/${own.id}`,
      { key: admin },
    );
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe('last_admin_key');
    expect(self.body.error.message).toMatch(/visionpipe keys create/);
    expect((await call(svc.api, 'GET', '/api-keys', { key: admin })).status).toBe(200);
  });

  it('defaults to ImgGo scopes; refuses unknown scopes, past expiry, and keys without admin:all', async () => {
    const plain = await call<{ data: { scopes: string[] } }>(svc.api, 'POST', '/api-keys', {
      key: admin,
      json: { name: 'defaults' },
    });
    expect(plain.body.data.scopes).toEqual(['patterns:read', 'patterns:ingest']);
    const unknown = await call<{ error: { code: string; details: { field: string } } }>(
      svc.api,
      'POST',
      '/api-keys',
      { key: admin, json: { name: 'bad', scopes: ['root'] } },
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'validation_error', details: { field: 'scopes' } });
    const past = await call(svc.api, 'POST', '/api-keys', {
      key: admin,
      json: { name: 'old', expires_at: '2001-01-01T00:00:00Z' },
    });
    expect(past.status).toBe(400);
    const weak = await svc.key(['patterns:read', 'patterns:write', 'jobs:read']);
    const escalate = await call(svc.api, 'POST', '/api-keys', {
      key: weak,
      json: { name: 'mine', scopes: ['admin:all'] },
    });
    expect(escalate.status).toBe(403);
  });
});

describe('patterns', () => {
  it('model_profile other than the server model is refused, naming the field', async () => {
    const answer = await call<{ error: { code: string; message: string; details: { field: string } } }>(
      svc.api,
      'POST',
      '/patterns',
      {
        key: admin,
        json: { name: 'gpt', instructions: 'Read', json_schema: { total: 'number' }, model_profile: 'gpt-5' },
      },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: 'validation_error',
      details: { field: 'model_profile' },
    });
    expect(answer.body.error.message).toContain('gpt-5');
    const managed = await call(svc.api, 'POST', '/patterns', {
      key: admin,
      json: {
        name: 'managed',
        instructions: 'Read',
        json_schema: { total: 'number' },
        model_profile: 'managed-default',
      },
    });
    expect(managed.status).toBe(201);
  });

  it('an in-place edit does not change a job already queued: it runs the pattern it was accepted with', async () => {
    const created = await call<{ data: { id: string } }>(svc.api, 'POST', '/patterns', {
      key: admin,
      json: { name: 'Receipt', instructions: 'Read', json_schema: { merchant: 'string', total: 'number' } },
    });
    const patternId = created.body.data.id;
    const ingest = async (seed: number) =>
      (
        await call<{ data: { job_id: string } }>(svc.api, 'POST', `/patterns/${patternId}/ingest`, {
          key: admin,
          form: imageForm(await distinctJpeg(seed)),
        })
      ).body.data.job_id;
    // One worker, one job at a time, 1.5 s a call: the first runs, the second waits in the queue.
    const running = await ingest(101);
    const queued = await ingest(102);
    const edited = await call(svc.api, 'PATCH', `/patterns/${patternId}`, {
      key: admin,
      json: { json_schema: { merchant: 'string', date: 'date', total: 'number' } },
    });
    expect(edited.status, edited.text).toBe(200);
    const after = await ingest(103);

    const [first, second, third] = await Promise.all(
      [running, queued, after].map((id) => waitForJob(svc.api, admin, id, 60_000)),
    );
    expect(first?.manifest).toEqual({ merchant: 'Blue Bottle', total: 8.99 });
    expect(second?.manifest).toEqual({ merchant: 'Blue Bottle', total: 8.99 });
    expect(third?.manifest).toEqual({ merchant: 'Blue Bottle', date: '2024-03-22', total: 8.99 });
  });
});
