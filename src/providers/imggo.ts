/**
 * ImgGo as a backend: the extraction runs on ImgGo against one of its patterns.
 * `POST /patterns/{id}/ingest` queues a job (the image as multipart field `image`, or
 * its original URL as JSON `image_url`), then `GET /jobs/{id}` is polled with backoff
 * until `succeeded` (the result is `manifest`) or `failed`. The idempotency key is
 * derived from the image's content hash and the pattern, so a retried call finds the
 * job it already created instead of paying for a second one.
 * API facts: docs/providers.md (ImgGo OpenAPI spec and rate-limit docs).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { isVisionpipeError, VisionpipeError } from '../errors.js';
import { parseRateLimitHeaders } from '../flow/rate-limit-headers.js';
import { SIZE_PROFILES } from '../image/profiles.js';
import { undici } from '../on-first-use.js';
import { type JsonRequest, releaseOrigin, requestJson, retainOrigin } from './http.js';
import type { HttpHeaders } from './http-errors.js';
import { API_KEY_ENV } from './ids.js';
import {
  answerKeyOf,
  endpoint,
  mediaType,
  parseWire,
  type RemoteProviderOptions,
  resolveApiKey,
  resolveBaseUrl,
  resolveTimeout,
} from './remote.js';
import { redactSecrets } from './secrets.js';
import type { ExtractRequest, ExtractResult, Provider, ProviderImage, RateLimitSnapshot } from './spec.js';

export const IMGGO_ENV = API_KEY_ENV.imggo;
export const IMGGO_BASE_URL = 'https://img-go.com/api';
/** ImgGo picks the model itself (`model_profile` of the pattern); this names that choice. */
export const IMGGO_DEFAULT_MODEL = 'managed-default';

export interface ImgGoProviderOptions extends RemoteProviderOptions {
  /** The ImgGo pattern (uuid) images are ingested into. Required. */
  imggoPatternId?: string;
  /** First wait between job polls, ms (default 1000); grows ×1.5 up to 10× this. */
  pollIntervalMs?: number;
  /** Give up on a job after this long, ms (default 600 000). */
  maxPollMs?: number;
}

const ingestSchema = z.object({
  success: z.literal(true),
  data: z.object({ job_id: z.string().min(1), status: z.string() }),
});

const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

const jobSchema = z.object({
  success: z.literal(true),
  data: z.object({
    id: z.string().min(1),
    status: z.enum(JOB_STATUSES),
    manifest: z.record(z.string(), z.unknown()).nullish(),
    error: z.string().nullish(),
  }),
});

/**
 * ImgGo's error envelope, `{success: false, error: {code, message, details}}`, which it may
 * send with a 2xx status too (imggo-api docs/api-reference/error-handling.md, openapi.yaml
 * ErrorResponse).
 */
const refusalSchema = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

/** Envelope codes for a state that passes: ImgGo's guide retries 429 and 5xx, nothing else. */
const TRANSIENT_CODE = /rate_limit|internal|unavailable|timeout|overload|temporar|try_again|busy/i;
/** Envelope codes for a key ImgGo refuses (missing_authorization, invalid_api_key, insufficient_permissions). */
const AUTH_CODE = /authoriz|api_key|permission|forbidden|unauthenticated/i;

/**
 * The typed error for an ImgGo refusal envelope, or undefined when `body` is not one. A
 * refusal is permanent (BAD_REQUEST, AUTH_FAILED: never sent again) unless its code names a
 * passing state (RATE_LIMITED, PROVIDER_UNAVAILABLE: retried, and the record says it was,
 * cascade.retried). `secrets` are removed from the message.
 */
export function imggoRefusal(
  body: unknown,
  what: string,
  secrets: ReadonlyArray<string | undefined> = [],
): VisionpipeError | undefined {
  const parsed = refusalSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const code = parsed.data.error?.code ?? 'no_code';
  const said = parsed.data.error?.message ?? 'no reason given';
  const message = redactSecrets(`imggo: ${what} refused (${code}): ${said}`, secrets);
  if (/rate_limit/i.test(code)) return new VisionpipeError('RATE_LIMITED', message);
  if (TRANSIENT_CODE.test(code)) return new VisionpipeError('PROVIDER_UNAVAILABLE', `${message} (transient)`);
  if (AUTH_CODE.test(code)) return new VisionpipeError('AUTH_FAILED', message, { retryable: false });
  return new VisionpipeError('BAD_REQUEST', `${message} (permanent: not sent again)`, { retryable: false });
}

/** The idempotency key of (image content, remote pattern): `vp_` + 40 hex characters. */
export function imggoIdempotencyKey(imageSha256: string, patternId: string): string {
  return `vp_${createHash('sha256').update(`${imageSha256}:${patternId}`).digest('hex').slice(0, 40)}`;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const out = value ?? fallback;
  if (!Number.isFinite(out) || out <= 0) {
    throw new VisionpipeError('INVALID_OPTION', `imggo: ${name} must be a positive number (got ${value})`, {
      option: name,
    });
  }
  return out;
}

export class ImgGoProvider implements Provider {
  readonly id = 'imggo';
  readonly defaultModel = IMGGO_DEFAULT_MODEL;
  readonly baseUrl: string;
  readonly patternId: string;
  readonly answerKey: string;
  /**
   * One image per job: `POST /api/patterns/{id}/ingest` takes a single `image` file or
   * `image_url` (IngestRequest in the ImgGo OpenAPI description, imggo-api
   * examples/public/openapi.yaml) and its job holds one result. A document's pages
   * therefore go one job each and are merged as the pattern's schema allows
   * (docs/documents.md); stated here so no caller mistakes the absence for an oversight.
   */
  readonly limits = { maxImagesPerRequest: 1 };
  /** The key given in options; the environment is read when a call needs it (see checkCredentials). */
  readonly #explicitKey: string | undefined;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #pollIntervalMs: number;
  readonly #maxPollMs: number;

  constructor(options: ImgGoProviderOptions = {}) {
    const patternId = options.imggoPatternId?.trim() ?? '';
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(patternId)) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        patternId === ''
          ? 'imggo: imggoPatternId is required (the ImgGo pattern id to ingest into)'
          : `imggo: imggoPatternId ${JSON.stringify(patternId)} is not a pattern id`,
        { option: 'imggoPatternId' },
      );
    }
    this.patternId = patternId;
    this.#base = resolveBaseUrl(this.id, options.baseUrl ?? IMGGO_BASE_URL);
    this.baseUrl = this.#base.href;
    this.#explicitKey = options.apiKey;
    this.#timeoutMs = resolveTimeout(this.id, options.timeoutMs ?? 30_000);
    this.#pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs, 1000);
    this.#maxPollMs = positive('maxPollMs', options.maxPollMs, 600_000);
    // ImgGo answers with its own pattern and model: the remote pattern is the answer's key.
    this.answerKey = answerKeyOf({ baseUrl: this.baseUrl, pattern: this.patternId });
    retainOrigin(this.#base.origin);
  }

  /** ImgGo's guide: fit inside 2048×2048 for any model. */
  sizeProfile() {
    return SIZE_PROFILES.max2048;
  }

  /** ImgGo bills per image, not per token. */
  estimateImageTokens(): number {
    return 0;
  }

  /** No tokens: the price table's per-image price is the cost. */
  estimateExtractTokens() {
    return { input_tokens: 0, output_tokens: 0, image_tokens: 0 };
  }

  async extract(request: ExtractRequest, signal: AbortSignal): Promise<ExtractResult> {
    const key = imggoIdempotencyKey(request.image.sha256, this.patternId);
    const ingest = await this.call(
      {
        url: endpoint(this.#base, `/patterns/${encodeURIComponent(this.patternId)}/ingest`),
        method: 'POST',
        headers: { 'idempotency-key': key },
        ...ingestBody(request.image, key),
      },
      signal,
    );
    const queued = parseWire(this.id, ingestSchema, ingest.body, 'ingest response');
    const { job, headers, raw } = await this.poll(queued.data.job_id, ingest.headers, signal);
    if (job.status === 'failed') {
      // The same idempotency key returns the same failed job: retrying cannot help.
      throw new VisionpipeError(
        'BAD_RESPONSE',
        `imggo: job ${job.id} failed: ${job.error ?? 'no reason given'}`,
        {
          retryable: false,
        },
      );
    }
    if (job.manifest === null || job.manifest === undefined) {
      throw new VisionpipeError('BAD_RESPONSE', `imggo: job ${job.id} succeeded without a manifest`);
    }
    return {
      output: job.manifest,
      model: request.model || this.defaultModel,
      // ImgGo reports no token counts: it bills per image (see the price table).
      usage: { input_tokens: 0, output_tokens: 0, image_tokens: 0, estimated: true },
      rateLimit: parseRateLimitHeaders(this.id, headers),
      raw,
    };
  }

  checkCredentials(): void {
    void this.#apiKey;
  }

  get #apiKey(): string | undefined {
    return resolveApiKey(this.id, IMGGO_ENV, this.#explicitKey, this.#base);
  }

  close(): Promise<void> {
    return releaseOrigin(this.#base.origin);
  }

  /**
   * Polls until the job is final. Waits grow ×1.5; a 429 on a poll (or a budget the
   * headers say is spent) waits for the time ImgGo asks before polling again. Any
   * other error ends the call: a retry re-ingests with the same key and finds the job.
   */
  private async poll(jobId: string, lastHeaders: HttpHeaders, signal: AbortSignal) {
    const started = Date.now();
    let interval = this.#pollIntervalMs;
    let headers = lastHeaders;
    let status = 'queued';
    for (;;) {
      const elapsed = Date.now() - started;
      if (elapsed >= this.#maxPollMs) {
        throw new VisionpipeError(
          'PROVIDER_TIMEOUT',
          `imggo: job ${jobId} still ${status} after ${Math.round(elapsed)} ms (maxPollMs ${this.#maxPollMs})`,
        );
      }
      const wait = Math.min(
        waitFor(parseRateLimitHeaders(this.id, headers), interval),
        this.#maxPollMs - elapsed,
      );
      await this.pause(wait, signal);
      interval = Math.min(interval * 1.5, this.#pollIntervalMs * 10);
      let answer: Awaited<ReturnType<ImgGoProvider['call']>>;
      try {
        answer = await this.call({ url: endpoint(this.#base, `/jobs/${encodeURIComponent(jobId)}`) }, signal);
      } catch (error) {
        if (isVisionpipeError(error) && error.code === 'RATE_LIMITED') {
          headers = { 'retry-after-ms': String(error.retryAfterMs ?? interval) };
          continue;
        }
        throw error;
      }
      headers = answer.headers;
      const job = parseWire(this.id, jobSchema, answer.body, 'job').data;
      status = job.status;
      if (job.status === 'succeeded' || job.status === 'failed') {
        return { job, headers, raw: (answer.body as { data: unknown }).data };
      }
    }
  }

  private async pause(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await sleep(Math.max(0, ms), undefined, { signal });
    } catch (error) {
      throw new VisionpipeError('ABORTED', 'imggo: aborted while waiting for the job', { cause: error });
    }
  }

  /**
   * One request to ImgGo. A refusal envelope (`success: false`, even with a 2xx status)
   * throws its typed error (imggoRefusal): a permanent one is never sent again.
   */
  private async call(request: Omit<JsonRequest, 'provider' | 'timeoutMs' | 'secrets'>, signal: AbortSignal) {
    const headers: Record<string, string> = { ...request.headers };
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
    const answer = await requestJson({
      ...request,
      provider: this.id,
      headers,
      timeoutMs: this.#timeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    const what = request.method === 'POST' ? 'ingest' : 'job poll';
    const refused = imggoRefusal(answer.body, what, [this.#apiKey]);
    if (refused) throw refused;
    return answer;
  }
}

/** The poll interval, or longer when the last answer said the request budget is spent. */
function waitFor(snapshot: RateLimitSnapshot | undefined, interval: number): number {
  if (snapshot?.retryAfterMs !== undefined) return Math.max(interval, snapshot.retryAfterMs);
  const requests = snapshot?.requests;
  if (requests?.remaining === 0 && requests.resetMs !== undefined)
    return Math.max(interval, requests.resetMs);
  return interval;
}

/** The original URL as JSON when ImgGo may fetch it itself, else the bytes as multipart `image`. */
function ingestBody(image: ProviderImage, key: string): Pick<JsonRequest, 'json' | 'form'> {
  if (image.sourceUrl !== undefined) return { json: { image_url: image.sourceUrl, idempotency_key: key } };
  const form = new (undici().FormData)();
  form.set(
    'image',
    new Blob([new Uint8Array(image.data)], { type: mediaType(image.format) }),
    `${image.sha256.slice(0, 16)}.${image.format === 'jpeg' ? 'jpg' : image.format}`,
  );
  form.set('idempotency_key', key);
  return { form };
}
