/**
 * Patterns and jobs as the API shows them: ImgGo's fields (OpenAPI `Pattern` and `Job`,
 * snake_case, ISO timestamps) plus the aliases its docs use (`pattern_id`, `job_id`)
 * and what visionpipe adds to a job (cache outcome, attempts, tokens, cost).
 *
 * A job has exactly one `status` key and a failed job's `error` is a string: ImgGo's curl
 * examples find both with grep.
 */
import type { JobRow, PatternVersion, StoredPattern } from '../store/index.js';

/** ImgGo's patterns belong to a user; here the API key that created it stands in. */
const NO_OWNER = '00000000-0000-0000-0000-000000000000';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function schemaFields(p: StoredPattern | PatternVersion) {
  return {
    format: p.format,
    instructions: p.instructions,
    json_schema: p.json_schema,
    yaml_schema: p.yaml_schema,
    xml_schema: p.xml_schema,
    csv_schema: p.csv_schema,
    csv_delimiter: p.csv_delimiter,
    plain_text_schema: p.plain_text_schema,
    model_profile: p.model_profile,
  };
}

export function patternView(p: StoredPattern, origin: string) {
  return {
    id: p.id,
    pattern_id: p.id,
    user_id: p.created_by ?? NO_OWNER,
    name: p.name,
    ...schemaFields(p),
    version: p.version,
    is_active: p.is_active,
    parent_pattern_id: p.parent_pattern_id,
    webhook_url: p.webhook_url,
    created_at: iso(p.created_at),
    updated_at: iso(p.updated_at),
    endpoint_url: `${origin}/api/patterns/${p.id}/ingest`,
  };
}

export function versionView(v: PatternVersion) {
  return { version: v.version, name: v.name, ...schemaFields(v), created_at: iso(v.created_at) };
}

export function jobView(job: JobRow) {
  return {
    id: job.id,
    job_id: job.id,
    pattern_id: job.pattern_id,
    pattern_version: job.pattern_version,
    image_url: job.image_url,
    status: job.status,
    manifest: job.manifest,
    error: job.error,
    error_code: job.error_code,
    latency_ms: job.latency_ms,
    attempts: job.attempts,
    cache: job.cache,
    usage: job.usage,
    cost_usd: job.cost_usd,
    provider: job.provider,
    model: job.model,
    created_at: iso(job.created_at),
    updated_at: iso(job.updated_at),
    started_at: iso(job.started_at),
    completed_at: iso(job.completed_at),
    idempotency_key: job.idempotency_key,
    requested_by: job.requested_by,
    extras: job.extras,
    webhook_url: job.webhook_url,
    // Documents (PDF, multi-page TIFF): pages, pages_sent, blank_pages, conflicts; null for an image.
    document: job.document ?? null,
    // A worker died during a provider call for this work: that call may have been paid too.
    possibly_paid: job.possibly_paid,
  };
}

/**
 * The ingest answer. A job finished at once (a stored result, an idempotent replay of a
 * finished job) carries its manifest, like ImgGo's replay answer; none carries an
 * `error` key: ImgGo's curl example takes any `"error"` in this answer as a failure.
 */
export function ingestView(job: JobRow) {
  const message =
    job.status === 'queued' || job.status === 'running'
      ? 'Image queued for processing'
      : `Job already ${job.status}: GET /jobs/${job.id} for the result`;
  return {
    job_id: job.id,
    status: job.status,
    message,
    approach: 'queued',
    ...(job.status === 'succeeded' ? { manifest: job.manifest } : {}),
  };
}
