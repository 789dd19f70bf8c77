/**
 * The PostgreSQL store on a real server: migrations (once, even when processes start
 * together), hashed API keys, pattern versions, and the job/result rules that make
 * "never pay twice" hold at the database: one job per idempotency key, one result per
 * work key, and no job left waiting when it is ingested while its work completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { hashKey } from '../../src/store/api-keys.js';
import { openStore, type PatternFields, type Store, StoreConflictError } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { newIngest, okRecord, receipt } from '../support/store-records.js';

let database: TestDatabase;
let store: Store;

beforeAll(async () => {
  database = await createTestDatabase('store');
  store = await openStore({ url: database.url });
});

afterAll(async () => {
  await store?.close();
  await database?.drop();
});

describe('migrations', () => {
  it('apply once when several processes open the store at the same time', async () => {
    const fresh = await createTestDatabase('migrate');
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openStore({ url: fresh.url })));
      const applied = stores.flatMap((s) => s.migrations.applied);
      expect(applied).toEqual([
        '0001-initial',
        '0002-pattern-snapshots',
        '0003-job-documents',
        '0004-webhook-replays',
        '0005-job-work',
        '0006-job-queue-prefix',
      ]);
      expect(await stores[0]!.pending()).toEqual([]);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await fresh.drop();
    }
  });

  it('names an unreachable database', async () => {
    await expect(openStore({ url: 'postgres://postgres@127.0.0.1:1/nowhere' })).rejects.toThrow(
      /database postgres:\/\/\[redacted\]@127\.0\.0\.1:1\/nowhere is not reachable/,
    );
  });
});

describe('API keys', () => {
  it('stores only the hash, authenticates, expires and revokes', async () => {
    const created = await store.keys.create({ name: 'ci', scopes: ['jobs:read'] });
    expect(created.key).toMatch(/^vpk_[A-Za-z0-9_-]{40}$/);
    const rows = await store.db.selectFrom('api_keys').selectAll().where('id', '=', created.id).execute();
    expect(rows[0]!.key_hash).toBe(hashKey(created.key));
    expect(JSON.stringify(rows)).not.toContain(created.key);

    expect((await store.keys.authenticate(created.key))?.scopes).toEqual(['jobs:read']);
    expect(await store.keys.authenticate(`${created.key}x`)).toBeUndefined();

    const expiring = await store.keys.create({
      name: 'old',
      scopes: [],
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect(await store.keys.authenticate(expiring.key)).toBeDefined();
    expect(await store.keys.authenticate(expiring.key, new Date(Date.now() + 120_000))).toBeUndefined();

    expect((await store.keys.revoke(created.key_prefix))?.id).toBe(created.id);
    expect(await store.keys.authenticate(created.key)).toBeUndefined();
    expect(await store.keys.revoke(created.id)).toBeUndefined();
  });
});

describe('patterns', () => {
  it('compiles every schema form, refuses what the pipeline cannot run, keeps names unique', async () => {
    const forms: Array<Partial<PatternFields>> = [
      { format: 'yaml', json_schema: null, yaml_schema: 'merchant: Blue Bottle\ntotal: 8.99\n' },
      {
        format: 'xml',
        json_schema: null,
        xml_schema: '<receipt><merchant>A</merchant><total>1.5</total></receipt>',
      },
      { format: 'csv', json_schema: null, csv_schema: 'merchant;total', csv_delimiter: 'semicolon' },
      { format: 'text', json_schema: null, plain_text_schema: '# Merchant\n# Total\n' },
    ];
    for (const [i, form] of forms.entries()) {
      const p = await store.patterns.create({ ...receipt, ...form, name: `form ${i}` });
      expect(p.version).toBe(1);
      expect(p.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    await expect(
      store.patterns.create({ ...receipt, name: 'broken', format: 'csv', json_schema: null }),
    ).rejects.toMatchObject({ code: 'INVALID_PATTERN' });
    await store.patterns.create({ ...receipt, name: 'unique' });
    await expect(store.patterns.create({ ...receipt, name: 'unique' })).rejects.toBeInstanceOf(
      StoreConflictError,
    );
  });

  it('keeps field order: a pattern read back is the pattern stored (same fingerprint, same columns)', async () => {
    const p = await store.patterns.create({
      ...receipt,
      name: 'order',
      json_schema: { total_amount: 'number', date: 'date', merchant_name: 'string' },
    });
    const back = await store.patterns.compiled(p.id, 1);
    expect(back?.fingerprint).toBe(p.fingerprint);
    expect(Object.keys(back!.schema.properties)).toEqual(['total_amount', 'date', 'merchant_name']);
    expect(Object.keys((await store.patterns.get(p.id))!.json_schema!)).toEqual([
      'total_amount',
      'date',
      'merchant_name',
    ]);
  });

  it('edits in place, publishes versions, switches back, deletes softly', async () => {
    const p = await store.patterns.create({ ...receipt, name: 'versioned' });
    const edited = await store.patterns.update(p.id, { instructions: 'Read it carefully' }, {}, false);
    expect(edited).toMatchObject({ version: 1, instructions: 'Read it carefully' });
    expect(edited!.fingerprint).not.toBe(p.fingerprint);

    const v2 = await store.patterns.update(p.id, { json_schema: { merchant: 'string' } }, {}, true);
    expect(v2).toMatchObject({ version: 2, json_schema: { merchant: 'string' } });
    const versions = await store.patterns.versions(p.id);
    expect(versions?.map((v) => [v.version, v.instructions])).toEqual([
      [2, 'Read it carefully'],
      [1, 'Read it carefully'],
    ]);

    const back = await store.patterns.switchVersion(p.id, 1);
    expect(back).toMatchObject({ version: 1, json_schema: receipt.json_schema });
    expect(await store.patterns.switchVersion(p.id, 7)).toBe('no-version');
    expect((await store.patterns.compiled(p.id, 2))?.schema.required).toEqual(['merchant']);

    expect(await store.patterns.delete(p.id)).toBe(true);
    expect(await store.patterns.get(p.id)).toBeUndefined();
    expect(await store.patterns.compiled(p.id, 1)).toBeDefined();
    expect((await store.patterns.list({ page: 1, perPage: 100 })).rows.map((r) => r.id)).not.toContain(p.id);
  });
});

describe('jobs and results', () => {
  let patternId: string;
  let keyId: string;
  const sha = 'b'.repeat(64);

  beforeAll(async () => {
    patternId = (await store.patterns.create({ ...receipt, name: 'jobs' })).id;
    keyId = (await store.keys.create({ name: 'jobs', scopes: [] })).id;
    await store.images.put(sha, Buffer.from('image bytes'), 'image/jpeg');
  });

  const ingest = (workKey: string, idempotencyKey: string | null = null) =>
    store.jobs.ingest(
      newIngest(patternId, workKey, sha, { idempotencyKey, requestedBy: keyId, extras: { source: 'test' } }),
    );

  it('gives 20 concurrent ingests with one idempotency key one job', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => ingest('w-idem', 'same-key')));
    expect(new Set(outcomes.map((o) => o.job.id)).size).toBe(1);
    expect(outcomes.filter((o) => o.kind === 'queued')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'replay')).toHaveLength(19);
    expect((await ingest('w-other', 'same-key')).kind).toBe('key-reused');
  });

  it('finishes every open job of a work key: the leader paid, the others are dedup', async () => {
    const jobs = await Promise.all([1, 2, 3].map(() => ingest('w-share')));
    expect(jobs.every((j) => j.kind === 'queued')).toBe(true);
    const leader = jobs[0]!.job.id;
    await store.jobs.markRunning('w-share');
    const finished = await store.jobs.complete('w-share', okRecord({ merchant: 'A', total: 1 }), leader);
    expect(finished.sort()).toEqual(jobs.map((j) => j.job.id).sort());
    const rows = await Promise.all(jobs.map((j) => store.jobs.get(j.job.id)));
    expect(rows.map((r) => [r!.status, r!.cache, r!.cost_usd, r!.attempts])).toEqual([
      ['succeeded', 'miss', 0.0004, 1],
      ['succeeded', 'dedup', 0, 0],
      ['succeeded', 'dedup', 0, 0],
    ]);
    expect(rows[0]!.manifest).toEqual({ merchant: 'A', total: 1 });
    expect(rows[0]!.started_at).not.toBeNull();

    // Later ingests of the same work finish at once from the stored result.
    const later = await ingest('w-share');
    expect(later).toMatchObject({ kind: 'done', job: { status: 'succeeded', cache: 'hit', cost_usd: 0 } });
    expect(later.job.manifest).toEqual({ merchant: 'A', total: 1 });
  });

  it('never leaves a job waiting when it is ingested while its work completes', async () => {
    for (let round = 0; round < 10; round++) {
      const work = `w-race-${round}`;
      const first = await ingest(work);
      const [, racer] = await Promise.all([
        store.jobs.complete(work, okRecord({ merchant: 'R', total: round }), first.job.id),
        ingest(work),
      ]);
      const row = await store.jobs.get(racer.job.id);
      expect(row?.status).toBe('succeeded');
    }
  });

  it('stores no result for errors: the next ingest of that work is queued again', async () => {
    const first = await ingest('w-error');
    const failed: RunRecord = {
      ...okRecord({}),
      status: 'error',
      output: null,
      error: { code: 'PROVIDER_UNAVAILABLE', message: 'provider answered 503 five times' },
    };
    await store.jobs.complete('w-error', failed, first.job.id);
    expect(await store.jobs.get(first.job.id)).toMatchObject({
      status: 'failed',
      error_code: 'PROVIDER_UNAVAILABLE',
      manifest: null,
    });
    expect((await ingest('w-error')).kind).toBe('queued');
  });

  it('lists jobs by pattern and status, newest first', async () => {
    const { rows, total } = await store.jobs.list({ page: 1, perPage: 2, patternId, status: 'succeeded' });
    expect(rows).toHaveLength(2);
    expect(total).toBeGreaterThan(2);
    expect(rows[0]!.created_at.getTime()).toBeGreaterThanOrEqual(rows[1]!.created_at.getTime());
  });
});
