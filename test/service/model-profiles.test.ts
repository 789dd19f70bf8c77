/**
 * Model profiles: a pattern's `model_profile` names `managed-default` (the server's own
 * model, here the simulator) or a profile the server was configured with (here `fast`: an
 * OpenAI-compatible loopback server counting its calls, another model). An unknown name
 * is refused with ImgGo's error envelope naming the allowed ones; a pattern with a
 * profile is read by that profile's model, and the job records it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { call, distinctJpeg, imageForm, type JobData, waitForJob } from '../support/api-client.js';
import { type CompatibleServer, startCompatibleServer } from '../support/openai-compatible.js';
import { startTestService, type TestService } from '../support/service.js';

let sim: Simulator;
let fast: CompatibleServer;
let svc: TestService;
let key: string;
let billed = 0;

const createPattern = (profile: string) =>
  call<{ success: boolean; data: { id: string; model_profile: string }; error?: Record<string, unknown> }>(
    svc.api,
    'POST',
    '/patterns',
    {
      key,
      json: {
        name: `Total ${profile}`,
        instructions: 'Read the total',
        json_schema: { total: 'number' },
        model_profile: profile,
      },
    },
  );

beforeAll(async () => {
  sim = await startSimulator({
    latency: { minMs: 20, maxMs: 20 },
    answer: () => ({ total: 1 }),
    onBilled: () => {
      billed++;
    },
  });
  fast = await startCompatibleServer(JSON.stringify({ total: 2 }));
  svc = await startTestService({
    provider: 'openai',
    providerOptions: { openai: { baseUrl: sim.baseUrls.openai, apiKey: 'sim' } },
    modelProfiles: { fast: { id: 'openai', model: 'gpt-fast', baseUrl: fast.baseUrl } },
  });
  key = await svc.key(['patterns:write', 'patterns:ingest', 'jobs:read']);
});

afterAll(async () => {
  await svc?.close();
  await sim?.close();
  await fast?.close();
});

describe('model_profile', () => {
  it('an unknown profile is refused naming the allowed ones', async () => {
    const refused = await createPattern('huge');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      success: false,
      error: {
        code: 'validation_error',
        details: { field: 'model_profile', allowed: ['managed-default', 'fast'] },
      },
    });
    expect(String(refused.body.error?.message)).toContain('"huge"');
  });

  it("a configured profile's model reads the pattern's images; managed-default stays the server's", async () => {
    const created = await createPattern('fast');
    expect(created.status).toBe(201);
    expect(created.body.data.model_profile).toBe('fast');
    const image = await distinctJpeg(901);
    const mark = billed;
    const answer = await call<{ data: { job_id: string } }>(
      svc.api,
      'POST',
      `/patterns/${created.body.data.id}/ingest`,
      { key, form: imageForm(image) },
    );
    const job: JobData = await waitForJob(svc.api, key, answer.body.data.job_id);
    expect(job).toMatchObject({ status: 'succeeded', manifest: { total: 2 }, model: 'gpt-fast' });
    expect(fast.calls.map((c) => c.body.model)).toEqual(['gpt-fast']);
    expect(billed - mark).toBe(0);

    const managed = await createPattern('managed-default');
    const own = await call<{ data: { job_id: string } }>(
      svc.api,
      'POST',
      `/patterns/${managed.body.data.id}/ingest`,
      { key, form: imageForm(image) },
    );
    const ownJob: JobData = await waitForJob(svc.api, key, own.body.data.job_id);
    expect(ownJob).toMatchObject({ status: 'succeeded', manifest: { total: 1 } });
    expect(ownJob.model).not.toBe('gpt-fast');
    expect(billed - mark).toBe(1);
    expect(fast.calls).toHaveLength(1);
  });
});
