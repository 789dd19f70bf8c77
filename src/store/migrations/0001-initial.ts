/**
 * The service's first schema: API keys (hashed), patterns and their versions, images,
 * jobs and their results, and the webhook tables (endpoints, outbox, delivery log) that
 * webhook delivery uses. Plain SQL: it is the clearest statement of a schema.
 */
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table api_keys (
      id uuid primary key,
      name text not null,
      key_prefix text not null,
      key_hash text not null unique,
      scopes text[] not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz,
      last_used_at timestamptz,
      revoked_at timestamptz
    )`.execute(db);

  await sql`
    create table patterns (
      id uuid primary key,
      name text not null,
      format text not null check (format in ('json', 'yaml', 'xml', 'csv', 'text')),
      instructions text not null,
      json_schema json,
      yaml_schema text,
      xml_schema text,
      csv_schema text,
      csv_delimiter text not null default 'comma' check (csv_delimiter in ('comma', 'semicolon')),
      plain_text_schema text,
      model_profile text not null default 'managed-default',
      fingerprint text not null,
      version integer not null default 1 check (version > 0),
      is_active boolean not null default true,
      parent_pattern_id uuid references patterns(id) on delete set null,
      webhook_url text,
      created_by uuid references api_keys(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz
    )`.execute(db);
  await sql`create unique index patterns_live_name on patterns (name) where deleted_at is null`.execute(db);
  await sql`create index patterns_created on patterns (created_at desc)`.execute(db);

  await sql`
    create table pattern_versions (
      pattern_id uuid not null references patterns(id) on delete cascade,
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
      fingerprint text not null,
      created_at timestamptz not null default now(),
      primary key (pattern_id, version)
    )`.execute(db);

  await sql`
    create table images (
      sha256 text primary key,
      bytes bytea not null,
      media_type text not null,
      size integer not null,
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table jobs (
      id uuid primary key,
      pattern_id uuid not null references patterns(id),
      pattern_version integer not null,
      work_key text not null,
      image_sha256 text not null references images(sha256),
      image_url text not null,
      status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
      manifest json,
      error text,
      error_code text,
      latency_ms integer,
      attempts integer not null default 0,
      cache text,
      usage jsonb,
      cost_usd double precision,
      provider text,
      model text,
      idempotency_key text,
      requested_by uuid references api_keys(id) on delete set null,
      extras json,
      webhook_url text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      started_at timestamptz,
      completed_at timestamptz
    )`.execute(db);
  // One job per (key, idempotency key): concurrent retries of one request find the same job.
  await sql`create unique index jobs_idempotency on jobs (requested_by, idempotency_key)
    where idempotency_key is not null`.execute(db);
  await sql`create index jobs_open_work on jobs (work_key) where status in ('queued', 'running')`.execute(db);
  await sql`create index jobs_pattern_created on jobs (pattern_id, created_at desc)`.execute(db);
  await sql`create index jobs_status_created on jobs (status, created_at desc)`.execute(db);
  await sql`create index jobs_created on jobs (created_at desc)`.execute(db);

  await sql`
    create table results (
      work_key text primary key,
      record json not null,
      created_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table webhook_endpoints (
      id uuid primary key,
      url text not null,
      secret text not null,
      events text[] not null default '{job.succeeded,job.failed}',
      is_active boolean not null default true,
      created_by uuid references api_keys(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      last_triggered_at timestamptz,
      disabled_at timestamptz,
      disabled_reason text
    )`.execute(db);

  await sql`
    create table webhook_outbox (
      id uuid primary key,
      job_id uuid not null references jobs(id) on delete cascade,
      endpoint_id uuid references webhook_endpoints(id) on delete set null,
      url text not null,
      event text not null,
      payload json not null,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'disabled')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text,
      created_at timestamptz not null default now(),
      delivered_at timestamptz
    )`.execute(db);
  await sql`create index webhook_outbox_due on webhook_outbox (next_attempt_at) where status = 'pending'`.execute(
    db,
  );

  await sql`
    create table webhook_deliveries (
      id bigserial primary key,
      outbox_id uuid not null references webhook_outbox(id) on delete cascade,
      attempt integer not null,
      requested_at timestamptz not null default now(),
      duration_ms integer,
      response_status integer,
      response_body text,
      error text
    )`.execute(db);
  await sql`create index webhook_deliveries_outbox on webhook_deliveries (outbox_id, attempt)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'webhook_deliveries',
    'webhook_outbox',
    'webhook_endpoints',
    'results',
    'jobs',
    'images',
    'pattern_versions',
    'patterns',
    'api_keys',
  ]) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
