/**
 * Pattern snapshots: every pattern content a job may run, by (pattern, fingerprint), never
 * changed once written. An in-place edit of a pattern (PATCH without a new version)
 * rewrites its version row; a job queued before the edit still runs the pattern it was
 * accepted with, read from here by the fingerprint the job records.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table pattern_snapshots (
      pattern_id uuid not null references patterns(id) on delete cascade,
      fingerprint text not null,
      version integer not null check (version > 0),
      name text not null,
      format text not null,
      instructions text not null,
      json_schema json,
      yaml_schema text,
      xml_schema text,
      csv_schema text,
      csv_delimiter text not null default 'comma',
      plain_text_schema text,
      model_profile text not null,
      created_at timestamptz not null default now(),
      primary key (pattern_id, fingerprint)
    )`.execute(db);
  await sql`
    insert into pattern_snapshots (pattern_id, fingerprint, version, name, format, instructions, json_schema,
      yaml_schema, xml_schema, csv_schema, csv_delimiter, plain_text_schema, model_profile)
    select pattern_id, fingerprint, version, name, format, instructions, json_schema,
      yaml_schema, xml_schema, csv_schema, csv_delimiter, plain_text_schema, model_profile
    from pattern_versions
    on conflict do nothing`.execute(db);
  await sql`alter table jobs add column pattern_fingerprint text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table jobs drop column pattern_fingerprint`.execute(db);
  await sql`drop table pattern_snapshots`.execute(db);
}
