/**
 * Webhook replays: an outbox event says where its URL came from (`source`: a registered
 * `endpoint`, the ingest's own `job` URL, or its `pattern`'s), so a replay through the
 * job's delivery log never sends a deleted endpoint's event (whose `endpoint_id` became
 * null) as if it were the ingest's own; and it counts its replays. A replay starts a
 * fresh retry schedule at `schedule_from` (the attempts made before it) while attempt
 * numbers keep growing, so the delivery log never repeats one; each logged attempt says
 * which replay it belongs to (0: the original delivery).
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table webhook_outbox
      add column source text not null default 'endpoint' check (source in ('endpoint', 'job', 'pattern')),
      add column replays integer not null default 0,
      add column schedule_from integer not null default 0,
      add column replayed_at timestamptz`.execute(db);
  // Events already written: a null endpoint is the job's or the pattern's own URL when
  // the URL is theirs; otherwise it was an endpoint since deleted.
  await sql`
    update webhook_outbox o set source = 'job'
      from jobs j
     where o.endpoint_id is null and j.id = o.job_id and o.url = j.webhook_url`.execute(db);
  await sql`
    update webhook_outbox o set source = 'pattern'
      from jobs j join patterns p on p.id = j.pattern_id
     where o.endpoint_id is null and o.source = 'endpoint' and j.id = o.job_id
       and j.webhook_url is null and o.url = p.webhook_url`.execute(db);
  await sql`alter table webhook_deliveries add column replay integer not null default 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhook_deliveries drop column replay`.execute(db);
  await sql`
    alter table webhook_outbox
      drop column source, drop column replays, drop column schedule_from, drop column replayed_at`.execute(
    db,
  );
}
