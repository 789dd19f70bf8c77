/**
 * What a job's queue job carries beyond the image and pattern, and what may have been
 * paid: `work` keeps a `run --queue` job's provider setting and document reading (and
 * a pattern's model profile) so work that Redis lost is queued again exactly as it was
 * (the work key depends on them); `possibly_paid` says a provider call for this work
 * may have been paid by a worker that died before its answer was journaled.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs add column work json`.execute(db);
  await sql`alter table jobs add column possibly_paid boolean not null default false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs drop column possibly_paid`.execute(db);
  await sql`alter table jobs drop column work`.execute(db);
}
