/**
 * Anthropic Message Batches: `requests: [{custom_id, params}]` where `params` is exactly
 * the single-call Messages body, polled until `processing_status: ended`, results read
 * from `results_url` (JSONL, one `{custom_id, result}` per request, in any order) with the
 * same parser as single calls. Half price, ended within 24 h.
 *
 * Wire format:
 * - https://docs.anthropic.com/en/docs/build-with-claude/batch-processing
 * - https://docs.anthropic.com/en/api/creating-message-batches
 * - https://docs.anthropic.com/en/api/retrieving-message-batches (`processing_status`
 *   in_progress | canceling | ended; `request_counts` {processing, succeeded, errored,
 *   canceled, expired}; `results_url`)
 * - https://docs.anthropic.com/en/api/retrieving-message-batch-results (`result.type`
 *   succeeded | errored | canceled | expired, with `message` or `error`)
 */
import { z } from 'zod';
import { VisionpipeError } from '../../errors.js';
import {
  ANTHROPIC_BASE_URL,
  ANTHROPIC_DEFAULT_MODEL,
  ANTHROPIC_ENV,
  ANTHROPIC_VERSION,
  anthropicExtractionBody,
  readAnthropicExtraction,
} from '../anthropic.js';
import { releaseOrigin, requestJson, retainOrigin } from '../http.js';
import {
  endpoint,
  parseWire,
  type RemoteProviderOptions,
  resolveApiKey,
  resolveBaseUrl,
  resolveTimeout,
} from '../remote.js';
import { anthropicImageTokens } from '../tokens.js';
import {
  ANTHROPIC_BATCH_LIMITS,
  assertWithinLimits,
  type BatchLimitOptions,
  resolveBatchLimits,
} from './limits.js';
import type {
  BatchBackend,
  BatchItem,
  BatchLimits,
  BatchRequest,
  BatchRequestInfo,
  BatchState,
  BatchStatus,
} from './spec.js';
import { infoImages } from './spec.js';
import {
  customIdOf,
  DEFAULT_TRANSFER_TIMEOUT_MS,
  downloadText,
  jsonLines,
  requestError,
} from './transport.js';

export interface AnthropicBatchOptions extends RemoteProviderOptions, BatchLimitOptions {
  /** `max_tokens` of an extraction (default 4096, as for single calls). */
  maxOutputTokens?: number;
  /** Create and results download timeout, ms (default 600 000). */
  transferTimeoutMs?: number;
}

const batchSchema = z.object({
  id: z.string().min(1),
  processing_status: z.enum(['in_progress', 'canceling', 'ended']),
  request_counts: z
    .object({
      processing: z.number().int(),
      succeeded: z.number().int(),
      errored: z.number().int(),
      canceled: z.number().int(),
      expired: z.number().int(),
    })
    .nullish(),
  results_url: z.string().nullish(),
});

const STATES: Record<z.infer<typeof batchSchema>['processing_status'], BatchState> = {
  in_progress: 'in_progress',
  canceling: 'cancelling',
  ended: 'ended',
};

const resultLineSchema = z.object({
  custom_id: z.string(),
  result: z.discriminatedUnion('type', [
    z.object({ type: z.literal('succeeded'), message: z.unknown() }),
    z.object({ type: z.literal('errored'), error: z.unknown() }),
    z.object({ type: z.literal('canceled') }),
    z.object({ type: z.literal('expired') }),
  ]),
});

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * An errored result's `error` is an error response, `{type: "error", error: {type,
 * message}}`; older examples show the inner `{type, message}` alone. Both are read.
 */
function errorInfo(error: unknown): { type: string | undefined; message: string | undefined } {
  const outer = record(error);
  const inner = record(outer?.error) ?? outer;
  const type = typeof inner?.type === 'string' ? inner.type : undefined;
  const message = typeof inner?.message === 'string' ? inner.message : undefined;
  return { type, message };
}

export class AnthropicBatchBackend implements BatchBackend {
  readonly id = 'anthropic';
  readonly limits: BatchLimits;
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #transferTimeoutMs: number;
  readonly #maxOutputTokens: number;

  constructor(options: AnthropicBatchOptions = {}) {
    this.#base = resolveBaseUrl(this.id, options.baseUrl ?? ANTHROPIC_BASE_URL);
    this.baseUrl = this.#base.href;
    this.#apiKey = resolveApiKey(this.id, ANTHROPIC_ENV, options.apiKey, this.#base);
    this.#timeoutMs = resolveTimeout(this.id, options.timeoutMs);
    this.#transferTimeoutMs = resolveTimeout(
      this.id,
      options.transferTimeoutMs ?? Math.max(DEFAULT_TRANSFER_TIMEOUT_MS, this.#timeoutMs),
    );
    this.#maxOutputTokens = options.maxOutputTokens ?? 4096;
    this.limits = resolveBatchLimits(this.id, options, ANTHROPIC_BATCH_LIMITS);
    retainOrigin(this.#base.origin);
  }

  /** The request's entry in `requests`, plus its separating comma. */
  requestBytes(request: BatchRequest): number {
    return Buffer.byteLength(JSON.stringify(this.entry(request))) + 1;
  }

  async submit(requests: readonly BatchRequest[], signal: AbortSignal): Promise<{ batchId: string }> {
    const entries = requests.map((request) => this.entry(request));
    // The `{"requests":[…]}` envelope is a few bytes: the limits' 10^6-byte MB leaves room for it.
    const bytes = entries.reduce((sum, entry) => sum + Buffer.byteLength(JSON.stringify(entry)) + 1, 0);
    assertWithinLimits(this.id, requests.length, bytes, this.limits);
    const created = await requestJson({
      provider: this.id,
      url: endpoint(this.#base, '/v1/messages/batches'),
      method: 'POST',
      headers: this.headers(),
      json: { requests: entries },
      timeoutMs: this.#transferTimeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    return { batchId: parseWire(this.id, batchSchema, created.body, 'message batch').id };
  }

  async status(batchId: string, signal: AbortSignal): Promise<BatchStatus> {
    const batch = await this.retrieve(batchId, signal);
    const counts = batch.request_counts;
    return {
      state: STATES[batch.processing_status],
      ...(counts
        ? {
            counts: {
              total: counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired,
              completed: counts.succeeded,
              failed: counts.errored + counts.canceled + counts.expired,
            },
          }
        : {}),
    };
  }

  async *results(
    batchId: string,
    signal: AbortSignal,
    requests?: ReadonlyMap<string, BatchRequestInfo>,
  ): AsyncGenerator<BatchItem> {
    const batch = await this.retrieve(batchId, signal);
    if (batch.processing_status !== 'ended' || !batch.results_url) {
      throw new VisionpipeError(
        'BAD_REQUEST',
        `anthropic: batch ${batchId} has no results yet (processing_status ${batch.processing_status})`,
      );
    }
    const text = await downloadText({
      provider: this.id,
      url: this.resultsUrl(batchId, batch.results_url),
      headers: this.headers(),
      timeoutMs: this.#transferTimeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    for (const { line, value } of jsonLines(text)) {
      const item = this.readLine(batchId, value, line, requests);
      if (item !== undefined) yield item;
    }
  }

  async cancel(batchId: string, signal: AbortSignal): Promise<void> {
    await requestJson({
      provider: this.id,
      url: endpoint(this.#base, `/v1/messages/batches/${encodeURIComponent(batchId)}/cancel`),
      method: 'POST',
      headers: this.headers(),
      timeoutMs: this.#timeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
  }

  close(): Promise<void> {
    return releaseOrigin(this.#base.origin);
  }

  private entry(request: BatchRequest) {
    const model = request.model || ANTHROPIC_DEFAULT_MODEL;
    return {
      custom_id: request.customId,
      params: anthropicExtractionBody(request, model, this.#maxOutputTokens),
    };
  }

  /**
   * The docs say to read results from `results_url` rather than assume its path. The key
   * goes only to the origin it is meant for: a `results_url` elsewhere (a gateway that
   * rewrites hosts) is replaced by the documented path on the configured base.
   */
  private resultsUrl(batchId: string, resultsUrl: string): string {
    let url: URL | undefined;
    try {
      url = new URL(resultsUrl, this.#base);
    } catch {}
    if (url !== undefined && url.origin === this.#base.origin) return url.href;
    return endpoint(this.#base, `/v1/messages/batches/${encodeURIComponent(batchId)}/results`);
  }

  private readLine(
    batchId: string,
    value: unknown,
    line: number,
    requests: ReadonlyMap<string, BatchRequestInfo> | undefined,
  ): BatchItem | undefined {
    const customId = customIdOf(value);
    if (customId === undefined) return undefined;
    const parsed = resultLineSchema.safeParse(value);
    if (!parsed.success) {
      return {
        customId,
        error: new VisionpipeError(
          'BAD_RESPONSE',
          `anthropic: line ${line} of batch ${batchId} results is not a result`,
        ),
      };
    }
    const result = parsed.data.result;
    switch (result.type) {
      case 'succeeded': {
        const info = requests?.get(customId);
        try {
          return {
            customId,
            result: readAnthropicExtraction(result.message, {
              model: info?.model || ANTHROPIC_DEFAULT_MODEL,
              imageTokens: info
                ? infoImages(info).reduce((sum, one) => sum + anthropicImageTokens(one.width, one.height), 0)
                : 0,
              // The prompt is not kept in the state file; batch answers carry real usage.
              promptText: '',
            }),
          };
        } catch (cause) {
          return {
            customId,
            error:
              cause instanceof VisionpipeError
                ? cause
                : new VisionpipeError('BAD_RESPONSE', `anthropic: unreadable batch result: ${String(cause)}`),
          };
        }
      }
      case 'errored': {
        const { type, message } = errorInfo(result.error);
        return { customId, error: requestError(this.id, batchId, type, message, [this.#apiKey]) };
      }
      case 'canceled':
        return {
          customId,
          error: new VisionpipeError(
            'ABORTED',
            `anthropic: request in batch ${batchId} was canceled before it ran`,
          ),
        };
      case 'expired':
        return {
          customId,
          error: new VisionpipeError(
            'PROVIDER_UNAVAILABLE',
            `anthropic: request in batch ${batchId} expired before it ran (the 24 h window ended)`,
          ),
        };
    }
  }

  private async retrieve(batchId: string, signal: AbortSignal) {
    const response = await requestJson({
      provider: this.id,
      url: endpoint(this.#base, `/v1/messages/batches/${encodeURIComponent(batchId)}`),
      method: 'GET',
      headers: this.headers(),
      timeoutMs: this.#timeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    return parseWire(this.id, batchSchema, response.body, 'message batch');
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
    if (this.#apiKey !== undefined) headers['x-api-key'] = this.#apiKey;
    return headers;
  }
}
