/**
 * A webhook event and its attempts as the delivery-log routes show them
 * (`GET /webhooks/{id}/deliveries`, `GET /jobs/{id}/deliveries`): the event (status,
 * attempts, next try, last error) and `log`, one entry per attempt (status code,
 * duration, the start of the answer or the error, the replay it belongs to: 0 for the
 * original delivery). `endpoint_id` is null for an event sent to an ingest's or a
 * pattern's own `webhook_url`; `source` says which (`endpoint`, `job`, `pattern`).
 */
import type { OutboxRow, Store } from '../store/index.js';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function deliveryView(row: OutboxRow) {
  return {
    id: row.id,
    event: row.event,
    job_id: row.job_id,
    endpoint_id: row.endpoint_id,
    url: row.url,
    source: row.source,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    last_error: row.last_error,
    created_at: iso(row.created_at),
    delivered_at: iso(row.delivered_at),
    replays: row.replays,
    replayed_at: iso(row.replayed_at),
  };
}

type EventsWithAttempts = Awaited<ReturnType<Store['webhooks']['deliveries']>>;

/** The delivery log: each event with its attempts, oldest attempt first. */
export function deliveryLogView(events: EventsWithAttempts) {
  return events.map(({ event, attempts }) => ({
    ...deliveryView(event),
    log: attempts.map((a) => ({
      attempt: a.attempt,
      replay: a.replay,
      requested_at: iso(a.requested_at),
      duration_ms: a.duration_ms,
      response_status: a.response_status,
      response_body: a.response_body,
      error: a.error,
    })),
  }));
}
