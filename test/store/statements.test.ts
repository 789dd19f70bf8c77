/**
 * PostgreSQL statements per job, counted through the pg client on a real server: what a
 * worker and a dispatcher send for one job (bench/service.ts measures the time; this
 * pins the count, so a change that adds round trips shows here first). Per job: the
 * start (1: jobs running + stored record or image), the completion (5: BEGIN, the work
 * lock, result + jobs + endpoints, the outbox rows, COMMIT), one statement per delivery
 * attempt recorded, and one claim per dispatcher batch.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunRecord } from '../../src/pipeline/record.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { newIngest, okRecord, receipt } from '../support/store-records.js';

let database: TestDatabase;
let store: Store;
let patternId: string;
const sha = 'c'.repeat(64);

const fields = { ...receipt, name: 'Statements' };
const record: RunRecord = { ...okRecord({ merchant: 'A' }), sha256: sha };

beforeAll(async () => {
  database = await createTestDatabase('statements');
  store = await openStore({ url: database.url });
  patternId = (await store.patterns.create(fields)).id;
  await store.images.put(sha, Buffer.from('image bytes'), 'image/jpeg');
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await store?.close();
  await database?.drop();
});

/** The SQL texts sent through any pg client while `action` runs. */
async function statementsOf(action: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
    sent.push(String(text).replace(/\s+/g, ' ').trim());
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query);
  await action();
  vi.restoreAllMocks();
  return sent;
}

async function queuedJobs(workKey: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const outcome = await store.jobs.ingest(
      newIngest(patternId, workKey, sha, { webhookUrl: 'https://receiver.example.com/hook' }),
    );
    ids.push(outcome.job.id);
  }
  return ids;
}

describe('statements per job', () => {
  it('starts work in 1 statement: the jobs run, the image (or the stored record) comes back', async () => {
    const [id] = await queuedJobs('s-start', 1);
    let start: Awaited<ReturnType<Store['jobs']['start']>> = {};
    const sent = await statementsOf(async () => {
      start = await store.jobs.start('s-start', sha);
    });
    expect(sent).toHaveLength(1);
    expect(start).toEqual({ image: { bytes: Buffer.from('image bytes'), mediaType: 'image/jpeg' } });
    expect((await store.jobs.get(id!))?.status).toBe('running');
    const gone = await store.jobs.start('s-start', 'd'.repeat(64));
    expect(gone).toEqual({});
  });

  it('finishes a leader and its followers with their outbox rows in 1 transaction of 5 statements', async () => {
    const [leader, ...followers] = await queuedJobs('s-complete', 3);
    await store.jobs.start('s-complete', sha);
    let finished: string[] = [];
    const sent = await statementsOf(async () => {
      finished = await store.jobs.complete('s-complete', record, leader, true);
    });
    expect(sent).toHaveLength(5);
    expect(sent[0]).toMatch(/^begin/i);
    expect(sent[4]).toMatch(/^commit/i);
    expect(finished).toEqual([leader, ...[...followers].sort()]);
    const rows = await Promise.all(finished.map((id) => store.jobs.get(id)));
    expect(rows.map((r) => [r?.status, r?.cache, r?.cost_usd, r?.attempts, r?.possibly_paid])).toEqual([
      ['succeeded', 'miss', 0.0004, 1, true],
      ['succeeded', 'dedup', 0, 0, false],
      ['succeeded', 'dedup', 0, 0, false],
    ]);
    expect(rows[1]?.usage).toEqual({ input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: false });
    for (const id of finished) expect(await store.webhooks.jobDeliveries(id)).toHaveLength(1);
    // The result is stored: the next start finds it and reads no image.
    await queuedJobs('s-complete', 1);
    expect(await store.jobs.start('s-complete', sha)).toEqual({ stored: record });
  });

  it('claims a dispatcher batch in 1 statement and records each attempt in 1', async () => {
    const [id] = await queuedJobs('s-deliver', 1);
    await store.jobs.complete('s-deliver', record, id);
    let claimed: Awaited<ReturnType<Store['webhooks']['claim']>> = [];
    const claim = await statementsOf(async () => {
      claimed = await store.webhooks.claim(100, 20_000);
    });
    expect(claim).toHaveLength(1);
    const mine = claimed.find((c) => c.row.job_id === id);
    expect(mine).toBeDefined();
    const recorded = await statementsOf(() =>
      store.webhooks.record(mine!.row, {
        requestedAt: new Date(),
        durationMs: 12,
        status: 200,
        body: 'ok',
        error: null,
        next: { kind: 'delivered' },
      }),
    );
    expect(recorded).toHaveLength(1);
    const [delivery] = await store.webhooks.jobDeliveries(id!);
    expect(delivery?.event.status).toBe('delivered');
    expect(delivery?.attempts.map((a) => [a.attempt, a.response_status, a.duration_ms])).toEqual([
      [1, 200, 12],
    ]);
  });

  it("ignores an attempt whose claim was taken again since; a delivered endpoint's event marks it triggered", async () => {
    const endpoint = await store.webhooks.createEndpoint({
      id: crypto.randomUUID(),
      url: 'https://endpoint.example.com/hook',
      secret: 'whsec_test',
      events: ['job.succeeded'],
      createdBy: null,
    });
    const [id] = await queuedJobs('s-stale', 1);
    await store.jobs.complete('s-stale', record, id);
    const mine = (await store.webhooks.claim(100, 0)).filter((c) => c.row.job_id === id);
    expect(mine.map((c) => [c.row.source, c.secret]).sort()).toEqual([
      ['endpoint', 'whsec_test'],
      ['job', undefined],
    ]);
    const first = mine.find((c) => c.row.source === 'endpoint')!.row;
    // The lease (0 ms) ran out: another dispatcher claims it again (attempt 2).
    const again = (await store.webhooks.claim(100, 20_000)).find((c) => c.row.id === first.id)!.row;
    expect(again.attempts).toBe(2);
    const delivered = { requestedAt: new Date(), durationMs: 5, status: 200, body: 'ok', error: null };
    // The first dispatcher's late answer, while the event is still pending, changes nothing and is not logged.
    await store.webhooks.record(first, { ...delivered, status: 500, next: { kind: 'retry', inMs: 1000 } });
    await store.webhooks.record(again, { ...delivered, next: { kind: 'delivered' } });
    const [event] = await store.webhooks.deliveries(endpoint.id);
    expect(event?.event.status).toBe('delivered');
    expect(event?.attempts.map((a) => [a.attempt, a.response_status])).toEqual([[2, 200]]);
    expect((await store.webhooks.endpoint(endpoint.id))?.last_triggered_at).toBeInstanceOf(Date);
    await store.webhooks.deleteEndpoint(endpoint.id);
  });
});
