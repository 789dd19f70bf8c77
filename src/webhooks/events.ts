/**
 * The events a finished job sends and their body. One body satisfies both readers:
 * Standard Webhooks' `{type, timestamp, data}` and ImgGo's `{event, data: {job_id,
 * pattern_id, status, result | error}, timestamp}` (its receiver example reads exactly
 * those). `data` also carries the job fields the API shows (manifest, error code,
 * extras, cache outcome, cost), so a receiver needs no second request. For a document
 * (PDF, multi-page TIFF, HEIC) `data.document` carries its page facts as the job records
 * them: `{pages, pages_sent, blank_pages, conflicts}` (null for an image); ImgGo's fields
 * are unchanged, ours sit beside them.
 */
import type { JobRow } from '../store/schema.js';

export const WEBHOOK_EVENTS = ['job.succeeded', 'job.failed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** ImgGo's docs also name `job.completed`: the same event as `job.succeeded`. */
const ALIASES: Record<string, WebhookEvent> = {
  'job.succeeded': 'job.succeeded',
  'job.completed': 'job.succeeded',
  'job.failed': 'job.failed',
};

/** The event a name means, or undefined for a name that is not an event. */
export function eventNamed(name: string): WebhookEvent | undefined {
  return ALIASES[name];
}

/** The event of a finished job (none for a job still open). */
export function eventOf(job: Pick<JobRow, 'status'>): WebhookEvent | undefined {
  if (job.status === 'succeeded') return 'job.succeeded';
  if (job.status === 'failed') return 'job.failed';
  return undefined;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** The body of one event about one finished job. */
export function eventBody(event: WebhookEvent, job: JobRow): Record<string, unknown> {
  const timestamp = iso(job.completed_at) ?? new Date().toISOString();
  return {
    type: event,
    event,
    timestamp,
    data: {
      job_id: job.id,
      pattern_id: job.pattern_id,
      pattern_version: job.pattern_version,
      status: job.status,
      result: job.manifest,
      error: job.error,
      error_code: job.error_code,
      image_url: job.image_url,
      extras: job.extras,
      idempotency_key: job.idempotency_key,
      latency_ms: job.latency_ms,
      cache: job.cache,
      cost_usd: job.cost_usd,
      provider: job.provider,
      model: job.model,
      document: job.document ?? null,
      possibly_paid: job.possibly_paid,
      created_at: iso(job.created_at),
      completed_at: iso(job.completed_at),
    },
  };
}
