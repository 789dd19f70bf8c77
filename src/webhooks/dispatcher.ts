/**
 * The webhook dispatcher: every `serve` and `worker` process runs one. It polls the
 * outbox for due events (claimed with SKIP LOCKED, so dispatchers on any number of
 * machines share the work and never send one attempt twice), sends each (deliver.ts)
 * and records the attempt and what follows (store/webhooks.ts).
 *
 * At-least-once: an event leaves the outbox only when a receiver answered 2xx (or 410,
 * or the schedule ran out). A dispatcher killed mid-delivery leaves its claim to expire
 * (the delivery timeout plus 5 s), then any dispatcher sends it again, with the same
 * `webhook-id`: receivers deduplicate on it.
 */
import { publish, type WebhookDeliveryEvent } from '../observe/events.js';
import type { AttemptOutcome, ClaimedDelivery, Store } from '../store/index.js';
import { attemptDelivery, DEFAULT_DELIVERY_TIMEOUT_MS } from './deliver.js';
import { DEFAULT_RETRY_DELAYS_MS, nextDelayMs, type RetrySchedule } from './schedule.js';

export interface DispatcherSettings {
  schedule: RetrySchedule;
  /** Per attempt, ms (default 15 000). */
  timeoutMs: number;
  /** How often to look for due events when there were none, ms (default 500). */
  pollMs: number;
  /** Events sent at once by this dispatcher (default 16). */
  batch: number;
  /** Deliver to loopback and private addresses (tests, intranets). */
  allowPrivate: boolean;
  /** Signs events to per-ingest and pattern URLs (registered endpoints have their own secret). */
  secret?: string;
}

export const DISPATCHER_DEFAULTS: DispatcherSettings = {
  schedule: { delaysMs: DEFAULT_RETRY_DELAYS_MS, jitter: 0.2 },
  timeoutMs: DEFAULT_DELIVERY_TIMEOUT_MS,
  pollMs: 500,
  batch: 16,
  allowPrivate: false,
};

/** The metric's outcome label for what an attempt led to. */
const DELIVERY_OUTCOME: Record<AttemptOutcome['next']['kind'], WebhookDeliveryEvent['outcome']> = {
  delivered: 'delivered',
  retry: 'retrying',
  failed: 'failed',
  disabled: 'disabled',
};

export interface Dispatcher {
  /** Stops claiming; attempts in flight finish and are recorded. */
  close(): Promise<void>;
}

/** What an attempt's answer means for the event. */
export function outcomeOf(
  settings: Pick<DispatcherSettings, 'schedule'>,
  attempts: number,
  url: string,
  result: { status: number | null; retryAfterMs: number | undefined },
): AttemptOutcome['next'] {
  const { status } = result;
  if (status !== null && status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'disabled', reason: `${url} answered 410 Gone` };
  const inMs = nextDelayMs(settings.schedule, attempts, result.retryAfterMs);
  return inMs === undefined ? { kind: 'failed' } : { kind: 'retry', inMs };
}

export function startDispatcher(
  store: Store,
  options: Partial<DispatcherSettings>,
  log: (line: string) => void,
): Dispatcher {
  const settings: DispatcherSettings = { ...DISPATCHER_DEFAULTS, ...options };
  const leaseMs = settings.timeoutMs + 5_000;
  let running = true;
  let wake: (() => void) | undefined;
  let failing = false;

  async function send({ row, secret }: ClaimedDelivery): Promise<void> {
    const result = await attemptDelivery({
      url: row.url,
      id: row.id,
      body: JSON.stringify(row.payload),
      // An endpoint's event is signed with its secret, never the service's (a deleted
      // endpoint's event has no secret left and goes unsigned).
      secret: row.source === 'endpoint' ? secret : settings.secret,
      timeoutMs: settings.timeoutMs,
      allowPrivate: settings.allowPrivate,
    });
    // A replay starts the schedule afresh: count the attempts since it.
    const next = outcomeOf(settings, row.attempts - row.schedule_from, row.url, result);
    await store.webhooks.record(row, { ...result, next });
    // visionpipe_webhook_deliveries_total, and one event per attempt for logs and traces.
    publish('webhook', {
      outcome: DELIVERY_OUTCOME[next.kind],
      event: row.event,
      status: result.status,
      latencyMs: result.durationMs,
      attempt: row.attempts,
      jobId: row.job_id,
    });
    if (next.kind === 'failed' || next.kind === 'disabled')
      log(
        `webhook ${row.id} (${row.event} of job ${row.job_id}) to ${row.url}: ${next.kind} after ${row.attempts} attempt(s)`,
      );
  }

  const idle = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, settings.pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    while (running) {
      let claimed: ClaimedDelivery[] = [];
      try {
        claimed = await store.webhooks.claim(settings.batch, leaseMs);
        if (failing) log('webhooks: the database answers again');
        failing = false;
        await Promise.all(
          claimed.map((c) => send(c).catch((e: unknown) => log(`webhook ${c.row.id}: ${String(e)}`))),
        );
      } catch (error) {
        if (!failing)
          log(`webhooks: cannot reach the outbox: ${error instanceof Error ? error.message : String(error)}`);
        failing = true;
      }
      if (running && claimed.length < settings.batch) await idle();
    }
  })();

  return {
    async close() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
