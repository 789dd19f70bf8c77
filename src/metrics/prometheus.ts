/**
 * Prometheus metrics with prom-client, fed by the pipeline's events (observe/events.ts).
 * One definition for `run --metrics-port`, `serve` and `worker`: each process exposes
 * its own counters at /metrics and Prometheus sums them across instances, so nothing
 * here carries a per-process or per-image label (no unbounded label values: provider,
 * model, outcome, status class, error code and stage only).
 *
 * Naming follows Prometheus practice: prefix `visionpipe_`, base units (seconds, bytes,
 * USD), `_total` on counters.
 *
 * Image-level counters (images, cache lookups, tokens, cost, bytes, image duration) come
 * from each finished record, so after a run they equal the sums over its results.jsonl
 * lines written by this process; bytes and processed images are counted as the run
 * summary and the report count them (runs/volume.ts: a document's file once, sent bytes
 * only for calls made, cache hits and duplicates not processed); provider-level ones (requests, request duration,
 * retries, 429s, limiter waits) count every attempt, retried ones included.
 */
import client from 'prom-client';
import { type ImageEvent, type ProviderAttemptEvent, refusedForRate, subscribe } from '../observe/events.js';
import { VolumeTally } from '../runs/volume.js';

/**
 * Documents whose bytes-in were counted, remembered to count each once: a document's
 * records are published together, so the last few are enough in a long-lived process.
 */
const RECENT_DOCUMENTS = 1024;

/** Seconds: from a cache hit (ms) to a slow provider (minutes). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120];
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** `visionpipe_circuit_state` values. */
export const CIRCUIT_STATE_VALUE = { closed: 0, 'half-open': 0.5, open: 1, isolated: 1 } as const;

export interface MetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event loop lag). Default true. */
  processMetrics?: boolean;
  /** Labels put on every series (e.g. `{role: 'worker'}`); keep them bounded. */
  defaultLabels?: Record<string, string>;
}

export interface Metrics {
  readonly registry: client.Registry;
  /** A gauge whose value is read at scrape time (queue depth from BullMQ, …). */
  gaugeFromCollect(
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: () => Promise<Array<{ labels: Record<string, string>; value: number }>>,
  ): void;
  /** The exposition text (`text/plain; version=0.0.4`). */
  expose(): Promise<string>;
  readonly contentType: string;
  /** Stops listening to events. */
  close(): void;
}

function statusClass(event: ProviderAttemptEvent): string {
  if (event.ok) return '2xx';
  if (event.status !== undefined && event.status >= 100) return `${Math.floor(event.status / 100)}xx`;
  return event.code === 'PROVIDER_TIMEOUT' ? 'timeout' : 'error';
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new client.Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) client.collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const images = new client.Counter({
    name: 'visionpipe_images_total',
    help: 'Records finished (an image, a document with --pages document, a page with --pages each), by outcome (ok, error, skipped)',
    labelNames: ['outcome'],
    registers,
  });
  const imageDuration = new client.Histogram({
    name: 'visionpipe_image_duration_seconds',
    help: 'Wall time of one image through the pipeline (load, cache, preprocess, provider, validation)',
    buckets: DURATION_BUCKETS,
    registers,
  });
  const requests = new client.Counter({
    name: 'visionpipe_provider_requests_total',
    help: 'Provider call attempts (retries included), by provider, model and HTTP status class',
    labelNames: ['provider', 'model', 'status_class'],
    registers,
  });
  const requestDuration = new client.Histogram({
    name: 'visionpipe_provider_request_duration_seconds',
    help: 'Duration of one provider call attempt (without the wait for a rate-limit slot)',
    labelNames: ['provider', 'model'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const tokens = new client.Counter({
    name: 'visionpipe_tokens_total',
    help: 'Tokens billed, by provider, model and type (input, output, image; image tokens are part of input)',
    labelNames: ['provider', 'model', 'type'],
    registers,
  });
  const cost = new client.Counter({
    name: 'visionpipe_cost_usd_total',
    help: 'USD billed for provider calls, by provider and model (unknown prices add nothing)',
    labelNames: ['provider', 'model'],
    registers,
  });
  const cacheLookups = new client.Counter({
    name: 'visionpipe_cache_lookups_total',
    help: 'Result lookups by outcome: hit (earlier run), miss, dedup (same content this run), near_dup',
    labelNames: ['result'],
    registers,
  });
  const bytes = new client.Counter({
    name: 'visionpipe_bytes_total',
    help: 'Bytes: original (inputs read, a document once), sent (prepared images uploaded in provider calls), original_sent (original bytes of the inputs sent: the base of the size reduction)',
    labelNames: ['stage'],
    registers,
  });
  const processedImages = new client.Counter({
    name: 'visionpipe_processed_images_total',
    help: 'Images whose answer was worked out here, a document page counting as one (cache hits and duplicates are not): rate() x 3600 is images/hour as the run summary counts it',
    registers,
  });
  const processedDocuments = new client.Counter({
    name: 'visionpipe_processed_documents_total',
    help: 'Documents (PDF, multi-page TIFF, HEIC) with at least one page worked out here',
    registers,
  });
  const volume = new VolumeTally(RECENT_DOCUMENTS);
  const rateLimited = new client.Counter({
    name: 'visionpipe_rate_limited_total',
    help: 'Provider answers that were 429 (rate limited)',
    labelNames: ['provider'],
    registers,
  });
  const rateLimitWait = new client.Histogram({
    name: 'visionpipe_rate_limit_wait_seconds',
    help: 'Time a provider call waited for a rate-limit slot',
    labelNames: ['provider'],
    buckets: WAIT_BUCKETS,
    registers,
  });
  const retries = new client.Counter({
    name: 'visionpipe_retries_total',
    help: 'Provider calls retried, by provider and reason (the error code, lower case)',
    labelNames: ['provider', 'reason'],
    registers,
  });
  const circuit = new client.Gauge({
    name: 'visionpipe_circuit_state',
    help: 'Circuit breaker state per provider: 0 closed, 0.5 half-open, 1 open',
    labelNames: ['provider'],
    registers,
  });
  const limiterRate = new client.Gauge({
    name: 'visionpipe_limiter_rate',
    help: 'Requests per minute the flow control paces a provider at (absent until a throttle makes it pace)',
    labelNames: ['provider'],
    registers,
  });
  const limiterConcurrency = new client.Gauge({
    name: 'visionpipe_limiter_concurrency',
    help: 'Calls in flight the flow control currently allows a provider (learned from its answers)',
    labelNames: ['provider'],
    registers,
  });
  const webhooks = new client.Counter({
    name: 'visionpipe_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, retrying, failed, disabled)',
    labelNames: ['outcome'],
    registers,
  });

  const onImage = ({ record }: ImageEvent) => {
    images.inc({ outcome: record.status });
    imageDuration.observe(record.latency_ms / 1000);
    if (record.cache) cacheLookups.inc({ result: record.cache === 'near-dup' ? 'near_dup' : record.cache });
    const added = volume.add(record);
    bytes.inc({ stage: 'original' }, added.bytes.original);
    bytes.inc({ stage: 'sent' }, added.bytes.sent);
    bytes.inc({ stage: 'original_sent' }, added.bytes.original_sent);
    processedImages.inc(added.images);
    processedDocuments.inc(added.documents);
    const labels = { provider: record.provider, model: record.model };
    const { usage } = record;
    if (usage.input_tokens) tokens.inc({ ...labels, type: 'input' }, usage.input_tokens);
    if (usage.output_tokens) tokens.inc({ ...labels, type: 'output' }, usage.output_tokens);
    if (usage.image_tokens) tokens.inc({ ...labels, type: 'image' }, usage.image_tokens);
    if (record.cost_usd) cost.inc(labels, record.cost_usd);
  };
  const onAttempt = (event: ProviderAttemptEvent) => {
    const labels = { provider: event.provider, model: event.model };
    requests.inc({ ...labels, status_class: statusClass(event) });
    requestDuration.observe(labels, event.durationMs / 1000);
    rateLimitWait.observe({ provider: event.provider }, event.waitMs / 1000);
    if (refusedForRate(event)) rateLimited.inc({ provider: event.provider });
  };
  const unsubscribe = [
    subscribe('image', onImage),
    subscribe('attempt', onAttempt),
    subscribe('retry', (e) => retries.inc({ provider: e.provider, reason: e.code.toLowerCase() })),
    subscribe('circuit', (e) => circuit.set({ provider: e.provider }, CIRCUIT_STATE_VALUE[e.state])),
    subscribe('limiterRate', (e) => {
      if (e.requestsPerMinute !== undefined) limiterRate.set({ provider: e.provider }, e.requestsPerMinute);
      if (e.concurrency !== undefined) limiterConcurrency.set({ provider: e.provider }, e.concurrency);
    }),
    subscribe('webhook', (e) => webhooks.inc({ outcome: e.outcome })),
  ];

  return {
    registry,
    contentType: registry.contentType,
    gaugeFromCollect(name, help, labelNames, collect) {
      new client.Gauge({
        name,
        help,
        labelNames: [...labelNames],
        registers,
        async collect() {
          this.reset();
          for (const { labels, value } of await collect()) this.set(labels, value);
        },
      });
    },
    expose: () => registry.metrics(),
    close() {
      for (const off of unsubscribe) off();
    },
  };
}
