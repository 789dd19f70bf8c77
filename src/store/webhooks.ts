/**
 * Webhook endpoints, the outbox and the delivery log.
 *
 * - Endpoints: registered URLs with their secret and events; disabled (not deleted) when
 *   a receiver answers 410 Gone.
 * - Outbox: one row per event per target URL, written by `enqueue()` inside the
 *   transaction that finishes the job, so a job is never finished without its events
 *   (and never has events without being finished). The row id is the event id
 *   (Standard Webhooks `webhook-id`), the same on every retry.
 * - Claiming: a dispatcher takes due rows with `FOR UPDATE SKIP LOCKED` and moves their
 *   `next_attempt_at` one lease ahead in the same statement; a dispatcher that dies
 *   mid-delivery leaves the row to come due again after the lease (at-least-once).
 * - Delivery log: one row per attempt (status, duration, the start of the answer, or the
 *   error, and which replay it belongs to).
 * - Replay: an event sent again on demand keeps its id and its attempt count (attempt
 *   numbers never repeat in the log) and starts a fresh retry schedule.
 */
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { eventBody, eventOf, type WebhookEvent } from '../webhooks/events.js';
import type { Database, JobRow, WebhookEndpointTable, WebhookOutboxTable, WebhookSource } from './schema.js';

export type WebhookEndpointRow = Selectable<WebhookEndpointTable>;
export type OutboxRow = Selectable<WebhookOutboxTable>;

export interface NewEndpoint {
  id: string;
  url: string;
  secret: string;
  events: WebhookEvent[];
  createdBy: string | null;
}

/** A claimed outbox row and what is needed to send it. */
export interface ClaimedDelivery {
  row: OutboxRow;
  /** The endpoint's secret; undefined for a per-ingest or pattern URL. */
  secret: string | undefined;
}

/** What one attempt came to. */
export interface AttemptOutcome {
  /** When the attempt started. */
  requestedAt: Date;
  durationMs: number;
  status: number | null;
  body: string | null;
  error: string | null;
  /** delivered, pending (with nextAttemptMs), failed (no attempts left), disabled (410). */
  next:
    | { kind: 'delivered' }
    | { kind: 'retry'; inMs: number }
    | { kind: 'failed' }
    | { kind: 'disabled'; reason: string };
}

const newId = () => crypto.randomUUID();

/** A finished job as the outbox needs it: its row and its pattern's `webhook_url`. */
export type FinishedJob = JobRow & { pattern_webhook_url: string | null };

/** An active registered endpoint: where its subscribed events go. */
export interface ActiveEndpoint {
  id: string;
  url: string;
  events: string[];
}

/**
 * The SQL expression (one json array) of the active endpoints, for a statement that
 * finishes jobs to return alongside them: `enqueueFinished()` needs no read of its own.
 */
export const ACTIVE_ENDPOINTS_JSON = sql<
  ActiveEndpoint[]
>`(select coalesce(json_agg(json_build_object('id', e.id, 'url', e.url, 'events', e.events)), '[]'::json) from webhook_endpoints e where e.is_active)`;

/** The outbox rows of finished jobs (see `Webhooks.enqueue`). */
function outboxRows(jobs: readonly FinishedJob[], endpoints: readonly ActiveEndpoint[]) {
  const rows: Array<{
    id: string;
    job_id: string;
    endpoint_id: string | null;
    url: string;
    event: string;
    payload: string;
    source: WebhookSource;
  }> = [];
  for (const { pattern_webhook_url: patternUrl, ...job } of jobs) {
    const event = eventOf(job);
    if (!event) continue;
    const payload = JSON.stringify(eventBody(event, job));
    const urls = new Set<string>();
    for (const endpoint of endpoints) {
      if (!endpoint.events.includes(event)) continue;
      urls.add(endpoint.url);
      rows.push({
        id: newId(),
        job_id: job.id,
        endpoint_id: endpoint.id,
        url: endpoint.url,
        event,
        payload,
        source: 'endpoint',
      });
    }
    const own = job.webhook_url ?? patternUrl;
    if (own && !urls.has(own))
      rows.push({
        id: newId(),
        job_id: job.id,
        endpoint_id: null,
        url: own,
        event,
        payload,
        source: job.webhook_url ? 'job' : 'pattern',
      });
  }
  return rows;
}

export class Webhooks {
  constructor(private readonly db: Kysely<Database>) {}

  createEndpoint(input: NewEndpoint): Promise<WebhookEndpointRow> {
    return this.db
      .insertInto('webhook_endpoints')
      .values({
        id: input.id,
        url: input.url,
        secret: input.secret,
        events: input.events,
        is_active: true,
        created_by: input.createdBy,
        last_triggered_at: null,
        disabled_at: null,
        disabled_reason: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  listEndpoints(): Promise<WebhookEndpointRow[]> {
    return this.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .execute();
  }

  endpoint(id: string): Promise<WebhookEndpointRow | undefined> {
    return this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Deletes an endpoint; its undelivered events are dropped (marked `disabled`). False when there was none. */
  async deleteEndpoint(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('webhook_outbox')
        .set({ status: 'disabled', last_error: 'endpoint deleted' })
        .where('endpoint_id', '=', id)
        .where('status', '=', 'pending')
        .execute();
      const deleted = await tx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
    });
  }

  /**
   * Writes the events of finished jobs to the outbox, inside the caller's transaction:
   * per job, one row for each active endpoint subscribed to its event, and one for its
   * own `webhook_url` (else its pattern's) unless an endpoint already has that URL.
   * Returns how many rows were written. Reads the jobs and endpoints (2 statements), then
   * writes (1); a caller that has them already uses `enqueueFinished()`.
   */
  async enqueue(tx: Transaction<Database>, jobIds: readonly string[]): Promise<number> {
    if (jobIds.length === 0) return 0;
    const jobs = await tx
      .selectFrom('jobs')
      .innerJoin('patterns', 'patterns.id', 'jobs.pattern_id')
      .selectAll('jobs')
      .select('patterns.webhook_url as pattern_webhook_url')
      .where('jobs.id', 'in', [...jobIds])
      .execute();
    const endpoints = await tx
      .selectFrom('webhook_endpoints')
      .select(['id', 'url', 'events'])
      .where('is_active', '=', true)
      .execute();
    return this.enqueueFinished(tx, jobs, endpoints);
  }

  /**
   * `enqueue()` for jobs the caller has just read or written (each with its pattern's
   * `webhook_url`) and the active endpoints read in the same transaction: one statement,
   * none when no event has a target.
   */
  async enqueueFinished(
    tx: Transaction<Database>,
    jobs: readonly FinishedJob[],
    endpoints: readonly ActiveEndpoint[],
  ): Promise<number> {
    const rows = outboxRows(jobs, endpoints);
    if (rows.length > 0) await tx.insertInto('webhook_outbox').values(rows).execute();
    return rows.length;
  }

  /**
   * Takes up to `limit` due deliveries for this dispatcher: each counts one more attempt
   * and is hidden from other dispatchers for `leaseMs` (longer than a delivery can take).
   * One statement, the endpoints' secrets read with the rows.
   */
  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const { rows } = await sql<OutboxRow & { endpoint_secret: string | null }>`
      update webhook_outbox o
         set attempts = o.attempts + 1,
             next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
        from (select id from webhook_outbox
               where status = 'pending' and next_attempt_at <= now()
               order by next_attempt_at
               limit ${limit}
               for update skip locked) due
       where o.id = due.id
   returning o.*, (select e.secret from webhook_endpoints e where e.id = o.endpoint_id) as endpoint_secret`.execute(
      this.db,
    );
    return rows.map(({ endpoint_secret: secret, ...row }) => ({ row, secret: secret ?? undefined }));
  }

  /**
   * Records one attempt and what follows from it, in one transaction. Ignored when the
   * row was claimed again since (this dispatcher outlived its lease). 410 disables the
   * endpoint and drops its other undelivered events.
   */
  async record(row: OutboxRow, outcome: AttemptOutcome): Promise<void> {
    const { next } = outcome;
    if (next.kind !== 'disabled') {
      // The common case in one statement: the event's new state, the attempt's log row
      // (only when the event was still this dispatcher's) and the endpoint's last trigger.
      await sql`
        with updated as (
          update webhook_outbox
             set status = ${next.kind === 'retry' ? 'pending' : next.kind},
                 next_attempt_at = ${
                   next.kind === 'retry'
                     ? sql`now() + make_interval(secs => ${next.inMs / 1000})`
                     : sql`next_attempt_at`
                 },
                 last_error = ${next.kind === 'delivered' ? null : (outcome.error ?? `HTTP ${outcome.status}`)},
                 delivered_at = ${next.kind === 'delivered' ? sql`now()` : null}
           where id = ${row.id} and attempts = ${row.attempts} and status = 'pending'
       returning id, endpoint_id),
        logged as (
          insert into webhook_deliveries
                 (outbox_id, attempt, requested_at, duration_ms, response_status, response_body, error, replay)
          select id, ${row.attempts}::integer, ${outcome.requestedAt}::timestamptz, ${outcome.durationMs}::integer,
                 ${outcome.status}::integer, ${outcome.body}::text, ${outcome.error}::text, ${row.replays}::integer
            from updated)
        update webhook_endpoints
           set last_triggered_at = now()
         where ${next.kind === 'delivered'}::boolean and id = (select endpoint_id from updated)`.execute(
        this.db,
      );
      return;
    }
    // 410 Gone: the endpoint is disabled and its other undelivered events dropped.
    await this.db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable('webhook_outbox')
        .set({
          status: 'disabled',
          last_error: outcome.error ?? `HTTP ${outcome.status}`,
          delivered_at: null,
        })
        .where('id', '=', row.id)
        .where('attempts', '=', row.attempts)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return;
      await tx
        .insertInto('webhook_deliveries')
        .values({
          outbox_id: row.id,
          attempt: row.attempts,
          requested_at: outcome.requestedAt,
          duration_ms: outcome.durationMs,
          response_status: outcome.status,
          response_body: outcome.body,
          error: outcome.error,
          replay: row.replays,
        })
        .execute();
      if (row.endpoint_id === null) return;
      await tx
        .updateTable('webhook_endpoints')
        .set({
          is_active: false,
          disabled_at: sql`now()`,
          disabled_reason: next.reason,
          updated_at: sql`now()`,
        })
        .where('id', '=', row.endpoint_id)
        .execute();
      await tx
        .updateTable('webhook_outbox')
        .set({ status: 'disabled', last_error: next.reason })
        .where('endpoint_id', '=', row.endpoint_id)
        .where('status', '=', 'pending')
        .execute();
    });
  }

  /** An endpoint's events, newest first, each with its attempts (oldest first). */
  deliveries(endpointId: string, limit = 50) {
    return this.eventsWithAttempts('endpoint_id', endpointId, limit);
  }

  /**
   * A job's events, newest first, each with its attempts: to registered endpoints and to
   * the ingest's or its pattern's own `webhook_url` (which have no endpoint to list them).
   */
  jobDeliveries(jobId: string, limit = 50) {
    return this.eventsWithAttempts('job_id', jobId, limit);
  }

  private async eventsWithAttempts(column: 'endpoint_id' | 'job_id', value: string, limit: number) {
    const events = await this.db
      .selectFrom('webhook_outbox')
      .selectAll()
      .where(column, '=', value)
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    if (events.length === 0) return [];
    const attempts = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where(
        'outbox_id',
        'in',
        events.map((e) => e.id),
      )
      .orderBy('id')
      .execute();
    return events.map((event) => ({ event, attempts: attempts.filter((a) => a.outbox_id === event.id) }));
  }

  /** One event, looked up under its endpoint or its job; undefined when it is not theirs. */
  event(id: string, owner: { endpointId: string } | { jobId: string }): Promise<OutboxRow | undefined> {
    const query = this.db.selectFrom('webhook_outbox').selectAll().where('id', '=', id);
    return (
      'endpointId' in owner
        ? query.where('endpoint_id', '=', owner.endpointId)
        : query.where('job_id', '=', owner.jobId)
    ).executeTakeFirst();
  }

  /**
   * Sends an event again, now, with the same event id (receivers that already have it
   * recognise it): it becomes pending, due at once, with a fresh retry schedule counted
   * from the attempts already made; `replays` counts one more and the attempts that
   * follow are logged under it. Undefined when the event is gone.
   */
  async replay(id: string): Promise<OutboxRow | undefined> {
    return this.db
      .updateTable('webhook_outbox')
      .set({
        status: 'pending',
        schedule_from: sql`attempts`,
        replays: sql`replays + 1`,
        replayed_at: sql`now()`,
        next_attempt_at: sql`now()`,
        delivered_at: null,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /** Events not yet delivered nor given up (for health and tests). */
  async pendingCount(): Promise<number> {
    const row = await this.db
      .selectFrom('webhook_outbox')
      .select(sql<string>`count(*)`.as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
