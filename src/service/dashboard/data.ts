/**
 * The live dashboard's figures, from the shared state every API and worker process
 * writes (PostgreSQL jobs and webhook outbox, the BullMQ queue), so any replica shows
 * the whole service:
 *
 * - today (since midnight UTC): jobs by status, success rate (succeeded / finished),
 *   cost (USD), latency p50/p95/p99 (nearest rank over finished jobs, ms);
 * - throughput: jobs finished per minute over the last 30 minutes;
 * - queue depth by state; the 10 most recent failures;
 * - webhook delivery health today: outbox entries by status.
 */
import { sql } from 'kysely';
import type { IngestQueue } from '../../queue/ingest-queue.js';
import type { Store } from '../../store/index.js';

export interface DashboardData {
  /** ISO time the figures were read. */
  at: string;
  today: {
    queued: number;
    running: number;
    succeeded: number;
    failed: number;
    /** succeeded / (succeeded + failed), 0–1; 1 when none finished. */
    success_rate: number;
    cost_usd: number;
    latency_ms: { p50: number; p95: number; p99: number };
  };
  /** Jobs finished per minute, oldest first: `minute` is ISO. */
  throughput: Array<{ minute: string; succeeded: number; failed: number }>;
  queue: Record<string, number>;
  recent_failures: Array<{
    id: string;
    error_code: string | null;
    error: string | null;
    completed_at: string | null;
  }>;
  webhooks: Record<'pending' | 'delivered' | 'failed' | 'disabled', number>;
}

const MINUTES = 30;

export async function dashboardData(store: Store, queue: IngestQueue): Promise<DashboardData> {
  const { db } = store;
  const today = sql`date_trunc('day', now() at time zone 'utc') at time zone 'utc'`;
  const [counts, figures, perMinute, failures, outbox, queueCounts] = await Promise.all([
    sql<{
      status: string;
      n: string;
    }>`select status, count(*) as n from jobs where created_at >= ${today} group by status`.execute(db),
    sql<{ cost: number | null; p50: number | null; p95: number | null; p99: number | null }>`
      select sum(cost_usd) as cost,
        percentile_disc(0.50) within group (order by latency_ms) as p50,
        percentile_disc(0.95) within group (order by latency_ms) as p95,
        percentile_disc(0.99) within group (order by latency_ms) as p99
      from jobs where completed_at >= ${today} and status in ('succeeded', 'failed')`.execute(db),
    sql<{ minute: Date; succeeded: string; failed: string }>`
      select m.minute,
        count(j.id) filter (where j.status = 'succeeded') as succeeded,
        count(j.id) filter (where j.status = 'failed') as failed
      from generate_series(date_trunc('minute', now()) - interval '${sql.raw(String(MINUTES - 1))} minutes', date_trunc('minute', now()), interval '1 minute') as m(minute)
      left join jobs j on j.completed_at >= m.minute and j.completed_at < m.minute + interval '1 minute'
      group by m.minute order by m.minute`.execute(db),
    sql<{ id: string; error_code: string | null; error: string | null; completed_at: Date | null }>`
      select id, error_code, error, completed_at from jobs where status = 'failed'
      order by completed_at desc nulls last limit 10`.execute(db),
    sql<{
      status: string;
      n: string;
    }>`select status, count(*) as n from webhook_outbox where created_at >= ${today} group by status`.execute(
      db,
    ),
    queue.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed'),
  ]);
  const by = Object.fromEntries(counts.rows.map((r) => [r.status, Number(r.n)]));
  const succeeded = by.succeeded ?? 0;
  const failed = by.failed ?? 0;
  const f = figures.rows[0];
  const webhooks = { pending: 0, delivered: 0, failed: 0, disabled: 0 };
  for (const row of outbox.rows)
    if (row.status in webhooks) webhooks[row.status as keyof typeof webhooks] = Number(row.n);
  return {
    at: new Date().toISOString(),
    today: {
      queued: by.queued ?? 0,
      running: by.running ?? 0,
      succeeded,
      failed,
      success_rate: succeeded + failed === 0 ? 1 : succeeded / (succeeded + failed),
      cost_usd: Number(f?.cost ?? 0),
      latency_ms: { p50: Number(f?.p50 ?? 0), p95: Number(f?.p95 ?? 0), p99: Number(f?.p99 ?? 0) },
    },
    throughput: perMinute.rows.map((r) => ({
      minute: new Date(r.minute).toISOString(),
      succeeded: Number(r.succeeded),
      failed: Number(r.failed),
    })),
    queue: queueCounts,
    recent_failures: failures.rows.map((r) => ({
      id: r.id,
      error_code: r.error_code,
      error: r.error,
      completed_at: r.completed_at ? new Date(r.completed_at).toISOString() : null,
    })),
    webhooks,
  };
}
