/**
 * What the pipeline and flow tell observers, on Node's diagnostics_channel (the way
 * undici and fastify publish theirs): publishing costs nothing when no one listens, the
 * publishers depend on nothing but this file, and metrics, logs and alerts subscribe
 * without the pipeline knowing they exist (DESIGN: nothing depends on metrics).
 *
 * Every event is a plain object; times are milliseconds, costs USD.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { RunRecord } from '../pipeline/record.js';

/** One image finished by a pipeline (run, worker or service), with its record. */
export interface ImageEvent {
  record: RunRecord;
}

/** One provider call attempt (the retried ones each count), after it settled. */
export interface ProviderAttemptEvent {
  provider: string;
  model: string;
  /** `extract` or `ask` (triage). */
  operation: 'extract' | 'ask';
  attempt: number;
  /** Wall time of the call itself, not of the wait for a slot. */
  durationMs: number;
  /** Time spent in the limiter before the call (0 without one). */
  waitMs: number;
  ok: boolean;
  /** HTTP status behind a failure, when known. */
  status?: number;
  /** VisionpipeError code of a failure (INTERNAL for others). */
  code?: string;
}

/**
 * Whether a settled attempt was refused for the provider's rate limit (429, RATE_LIMITED):
 * its pacing, what waiting fixes. A 429 for quota or billing (QUOTA_EXCEEDED) is not a
 * rate: it is counted as the failure it is, never among the run's 429s; nor a 429 for a
 * request that alone is over the per-minute token budget (IMAGE_TOO_LARGE).
 */
export function refusedForRate(event: ProviderAttemptEvent): boolean {
  return (
    !event.ok &&
    event.code !== 'QUOTA_EXCEEDED' &&
    event.code !== 'IMAGE_TOO_LARGE' &&
    (event.status === 429 || event.code === 'RATE_LIMITED')
  );
}

/** A failed attempt that will be retried after `delayMs`. */
export interface RetryEvent {
  provider: string;
  model: string;
  attempt: number;
  code: string;
  delayMs: number;
  /** The provider said "slower" (429, 529, busy 503): a rate-limit wait, not an error retry. */
  throttled: boolean;
  /** The wait the provider named (Retry-After), ms, when it named one. */
  retryAfterMs?: number;
}

/**
 * Where one provider call is (flow/call-policy.ts): `waiting` to be sent (the flow's pause
 * or pacing, the --rpm/--tpm limiter), `sending`, or `done` (answered, failed, or its wait
 * given up). `afterRefusal`: the wait follows a 429/overloaded answer (a rate-limit wait
 * the image's --max-retry-wait bounds) rather than pacing before the call's first send.
 * `waitedMs` (on `sending` and on a `done` that was still waiting): how long it waited.
 */
export interface CallStateEvent {
  provider: string;
  phase: 'waiting' | 'sending' | 'done';
  /** On `done`: what the call was doing when it ended. */
  from?: 'waiting' | 'sending';
  afterRefusal: boolean;
  waitedMs?: number;
}

/** A provider's circuit breaker changed state. */
export interface CircuitEvent {
  provider: string;
  state: 'closed' | 'open' | 'half-open' | 'isolated';
}

/**
 * What a provider's flow control currently allows (flow/adaptive.ts), after each call:
 * the paced rate (requests per minute; absent while unpaced, i.e. before the first
 * throttle) and the calls in flight it learned to allow.
 */
export interface LimiterRateEvent {
  provider: string;
  requestsPerMinute?: number;
  concurrency?: number;
}

/**
 * One webhook delivery attempt settled: delivered (2xx), retrying (another attempt is
 * scheduled), failed (the schedule ran out) or disabled (the receiver answered 410).
 */
export interface WebhookDeliveryEvent {
  outcome: 'delivered' | 'retrying' | 'failed' | 'disabled';
  /** The event delivered (`job.succeeded`, `job.failed`). */
  event: string;
  /** The HTTP status, null when none came back (timeout, refused connection). */
  status: number | null;
  /** This attempt's duration, ms. */
  latencyMs: number;
  /** Which attempt of this delivery it was, 1-based. */
  attempt: number;
  /** The job the event is about (for logs; never a metric label). */
  jobId: string;
}

export const CHANNELS = {
  image: diagnostics_channel.channel('visionpipe:image'),
  attempt: diagnostics_channel.channel('visionpipe:provider:attempt'),
  retry: diagnostics_channel.channel('visionpipe:provider:retry'),
  circuit: diagnostics_channel.channel('visionpipe:circuit'),
  limiterRate: diagnostics_channel.channel('visionpipe:limiter:rate'),
  callState: diagnostics_channel.channel('visionpipe:provider:call-state'),
  webhook: diagnostics_channel.channel('visionpipe:webhook:delivery'),
} as const;

interface EventTypes {
  image: ImageEvent;
  attempt: ProviderAttemptEvent;
  retry: RetryEvent;
  circuit: CircuitEvent;
  limiterRate: LimiterRateEvent;
  callState: CallStateEvent;
  webhook: WebhookDeliveryEvent;
}

export type EventName = keyof EventTypes;

/** Publishes an event; a no-op unless someone subscribed. */
export function publish<K extends EventName>(name: K, event: EventTypes[K]): void {
  const channel = CHANNELS[name];
  if (channel.hasSubscribers) channel.publish(event);
}

/** Subscribes to one kind of event; returns the unsubscribe function. */
export function subscribe<K extends EventName>(
  name: K,
  listener: (event: EventTypes[K]) => void,
): () => void {
  const handler = (message: unknown) => listener(message as EventTypes[K]);
  CHANNELS[name].subscribe(handler);
  return () => {
    CHANNELS[name].unsubscribe(handler);
  };
}
