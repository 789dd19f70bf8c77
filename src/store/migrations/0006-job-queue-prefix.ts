/**
 * The queue prefix a job was queued under: services sharing PostgreSQL but not a prefix
 * re-queue only their own lost work (queue/reconciler.ts). Jobs from before it have null,
 * taken as the default prefix.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs add column queue_prefix text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs drop column queue_prefix`.execute(db);
}
