/**
 * The service's tables as Kysely sees them (the SQL is in migrations/). Timestamps are
 * `timestamptz` (Date in, Date out); images are `bytea` (Buffer). JSON goes in as text
 * and comes out parsed. Schemas, manifests and extras are `json`, not `jsonb`: jsonb
 * reorders keys, and key order is a pattern's field order (CSV columns, rendering).
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** A timestamp the database fills in by default. */
type CreatedAt = ColumnType<Date, Date | undefined, Date>;
/** JSON columns: written as a JSON string, read back parsed. */
type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface ApiKeyTable {
  id: string;
  name: string;
  /** The first characters of the key, shown in listings (the key itself is never stored). */
  key_prefix: string;
  /** sha256 (hex) of the whole key. */
  key_hash: string;
  scopes: string[];
  created_at: CreatedAt;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** The schema fields of a pattern, as ImgGo stores them (one per output format). */
export interface PatternSchemaColumns {
  format: string;
  instructions: string;
  json_schema: NullableJson<Record<string, unknown>>;
  yaml_schema: string | null;
  xml_schema: string | null;
  csv_schema: string | null;
  csv_delimiter: string;
  plain_text_schema: string | null;
  model_profile: string;
  /** The normalised pattern's fingerprint (schema, instructions, format, version): part of work keys. */
  fingerprint: string;
}

export interface PatternTable extends PatternSchemaColumns {
  id: string;
  name: string;
  version: number;
  is_active: boolean;
  parent_pattern_id: string | null;
  /** A pattern-level webhook URL (ImgGo's docs variant); delivered by the webhooks module. */
  webhook_url: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  deleted_at: Date | null;
}

export interface PatternVersionTable extends PatternSchemaColumns {
  pattern_id: string;
  version: number;
  name: string;
  created_at: CreatedAt;
}

/** Every pattern content a job may run, by (pattern, fingerprint): written once, never changed. */
export interface PatternSnapshotTable extends PatternSchemaColumns {
  pattern_id: string;
  version: number;
  name: string;
  created_at: CreatedAt;
}

export interface ImageTable {
  sha256: string;
  bytes: Buffer;
  media_type: string;
  size: number;
  created_at: CreatedAt;
}

export interface JobUsage {
  input_tokens: number;
  output_tokens: number;
  image_tokens: number;
  estimated: boolean;
}

/** A document job's pages: how many it has, how many were read, which were blank, where pages disagreed. */
export interface JobDocument {
  pages: number;
  pages_sent: number;
  blank_pages: number[];
  conflicts: unknown[];
}

/** What a queue job asks beyond image and pattern (see queue/ingest-queue.ts): kept so lost work is re-queued the same. */
export interface JobWork {
  provider?: { id: string; model?: string; baseUrl?: string };
  documents?: { pages: 'document' | 'each'; pageRange?: string; maxPages?: number };
  /** The model profile the pattern named (service ingest). */
  model_profile?: string;
}

export interface JobTable {
  id: string;
  pattern_id: string;
  pattern_version: number;
  /** The fingerprint of the pattern content it was accepted with (pattern_snapshots); null before 0002. */
  pattern_fingerprint: string | null;
  /** Content + pattern version: every job with the same work key shares one queue job and one result. */
  work_key: string;
  image_sha256: string;
  image_url: string;
  status: JobStatus;
  manifest: NullableJson<Record<string, unknown>>;
  error: string | null;
  error_code: string | null;
  latency_ms: number | null;
  attempts: Generated<number>;
  /** hit | miss | dedup | near-dup, as in run records; null until the job ends. */
  cache: string | null;
  usage: NullableJson<JobUsage>;
  cost_usd: number | null;
  provider: string | null;
  model: string | null;
  idempotency_key: string | null;
  requested_by: string | null;
  extras: NullableJson<Record<string, unknown>>;
  webhook_url: string | null;
  /** Documents only (PDF, multi-page TIFF): the page facts of the result; null for images. */
  document: NullableJson<JobDocument>;
  /** A `run --queue` job's provider setting and document reading, a pattern's model profile; null: the worker's own (0004). */
  work: NullableJson<JobWork>;
  /** A worker died after starting a provider call for this work and before its answer was journaled: it may have been paid (0004). */
  possibly_paid: Generated<boolean>;
  /** The queue prefix it was queued under; null before 0006 (taken as the default prefix). */
  queue_prefix: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  started_at: Date | null;
  completed_at: Date | null;
}

/** The finished result of one work key: what a later ingest of the same image and pattern version reuses. */
export interface ResultTable {
  work_key: string;
  /** The pipeline's run record (output, usage, cost, cache outcome…). */
  record: Json<Record<string, unknown>>;
  created_at: CreatedAt;
}

export interface WebhookEndpointTable {
  id: string;
  url: string;
  secret: string;
  events: string[];
  is_active: boolean;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  last_triggered_at: Date | null;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

/** One event to deliver to one URL, written in the transaction that finishes its job. */
export interface WebhookOutboxTable {
  /** Stable across retries: the Standard Webhooks `webhook-id`. */
  id: string;
  job_id: string;
  endpoint_id: string | null;
  url: string;
  event: string;
  payload: Json<Record<string, unknown>>;
  status: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: CreatedAt;
  last_error: string | null;
  created_at: CreatedAt;
  delivered_at: Date | null;
  /** Where the URL came from: a registered endpoint, the ingest's own, or its pattern's. */
  source: Generated<WebhookSource>;
  /** Times the event was replayed (`POST …/replay`). */
  replays: Generated<number>;
  /** Attempts made before the current retry schedule started (the last replay's). */
  schedule_from: Generated<number>;
  replayed_at: Date | null;
}

export type WebhookSource = 'endpoint' | 'job' | 'pattern';

/** One delivery attempt of an outbox entry. */
export interface WebhookDeliveryTable {
  id: Generated<string>;
  outbox_id: string;
  attempt: number;
  requested_at: CreatedAt;
  duration_ms: number | null;
  response_status: number | null;
  response_body: string | null;
  error: string | null;
  /** Which replay the attempt belongs to (0: the original delivery). */
  replay: Generated<number>;
}

export interface Database {
  api_keys: ApiKeyTable;
  patterns: PatternTable;
  pattern_versions: PatternVersionTable;
  pattern_snapshots: PatternSnapshotTable;
  images: ImageTable;
  jobs: JobTable;
  results: ResultTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_outbox: WebhookOutboxTable;
  webhook_deliveries: WebhookDeliveryTable;
}

export type ApiKeyRow = Selectable<ApiKeyTable>;
export type PatternRow = Selectable<PatternTable>;
export type PatternVersionRow = Selectable<PatternVersionTable>;
export type PatternSnapshotRow = Selectable<PatternSnapshotTable>;
export type JobRow = Selectable<JobTable>;
export type NewJob = Insertable<JobTable>;
