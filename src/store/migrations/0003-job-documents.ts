/**
 * Documents through the service: a job whose image is a PDF or multi-page TIFF records
 * its page facts (pages, pages read, blank pages, merge conflicts) beside the manifest.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs add column document json`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs drop column document`.execute(db);
}
