/**
 * OpenAI Batch API: one JSONL line per request (`custom_id`, `method: POST`, `url:
 * /v1/chat/completions`, and `body` — exactly the body a single call sends), uploaded
 * with `purpose=batch`, then a batch over that file; results come back as two JSONL
 * files (outputs and errors), read with the same parser as single calls. Half price,
 * finished within 24 h.
 *
 * Wire format:
 * - https://platform.openai.com/docs/guides/batch
 * - https://platform.openai.com/docs/api-reference/files/create (multipart `file`, `purpose`)
 * - https://platform.openai.com/docs/api-reference/batch/create (`input_file_id`,
 *   `endpoint`, `completion_window: "24h"`, `metadata`: ≤ 16 string pairs)
 * - https://platform.openai.com/docs/api-reference/batch/object (`status`, `request_counts`
 *   `{total, completed, failed}`, `output_file_id`, `error_file_id`, `errors.data[]`)
 * - https://platform.openai.com/docs/api-reference/batch/request-output (`{id, custom_id,
 *   response: {status_code, request_id, body} | null, error: {code, message} | null}`)
 */
import { z } from 'zod';
import { type ErrorCode, VisionpipeError } from '../../errors.js';
import { undici } from '../../on-first-use.js';
import { releaseOrigin, requestJson, retainOrigin } from '../http.js';
import { httpStatusError } from '../http-errors.js';
import {
  OPENAI_BASE_URL,
  OPENAI_DEFAULT_MODEL,
  OPENAI_ENV,
  openaiExtractionBody,
  readOpenAIExtraction,
  resolveDetail,
} from '../openai.js';
import {
  endpoint,
  parseWire,
  type RemoteProviderOptions,
  resolveApiKey,
  resolveBaseUrl,
  resolveTimeout,
} from '../remote.js';
import { redactSecrets } from '../secrets.js';
import { type OpenAIDetail, openaiImageTokens } from '../tokens.js';
import {
  assertWithinLimits,
  type BatchLimitOptions,
  OPENAI_BATCH_LIMITS,
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
import { customIdOf, DEFAULT_TRANSFER_TIMEOUT_MS, downloadText, jsonLines } from './transport.js';

/** The endpoint every line targets (the only one this backend uses). */
export const OPENAI_BATCH_ENDPOINT = '/v1/chat/completions';

export interface OpenAIBatchOptions extends RemoteProviderOptions, BatchLimitOptions {
  /** Image detail, as for the single-call provider (default "high"). */
  detail?: OpenAIDetail;
  /** Cap on output tokens per extraction (default: the model's own). */
  maxOutputTokens?: number;
  /** Header that carries the key: `authorization` (Bearer, default) or `api-key` (Azure). */
  authHeader?: 'authorization' | 'api-key';
  /** Extra batch metadata (≤ 15 pairs besides visionpipe's own `source`; values ≤ 512 chars). */
  metadata?: Record<string, string>;
  /** Upload and results download timeout, ms (default 600 000). */
  transferTimeoutMs?: number;
}

const fileSchema = z.object({ id: z.string().min(1) });

const batchSchema = z.object({
  id: z.string().min(1),
  status: z.enum([
    'validating',
    'failed',
    'in_progress',
    'finalizing',
    'completed',
    'expired',
    'cancelling',
    'cancelled',
  ]),
  output_file_id: z.string().nullish(),
  error_file_id: z.string().nullish(),
  request_counts: z
    .object({ total: z.number().int(), completed: z.number().int(), failed: z.number().int() })
    .nullish(),
  errors: z
    .object({
      data: z
        .array(
          z.object({
            code: z.string().nullish(),
            message: z.string().nullish(),
            line: z.number().int().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});

type Batch = z.infer<typeof batchSchema>;

const outputLineSchema = z.object({
  custom_id: z.string(),
  response: z
    .object({ status_code: z.number().int(), body: z.unknown(), request_id: z.string().nullish() })
    .nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

/** Per-request error codes of the output/error files: the request never ran, or ran out of time. */
const LINE_ERROR_CODES: Record<string, ErrorCode> = {
  batch_expired: 'PROVIDER_UNAVAILABLE',
  batch_cancelled: 'ABORTED',
  request_timeout: 'PROVIDER_TIMEOUT',
};

const MAX_METADATA = 16;

export class OpenAIBatchBackend implements BatchBackend {
  readonly id = 'openai';
  readonly limits: BatchLimits;
  readonly baseUrl: string;
  readonly detail: OpenAIDetail;
  readonly #apiKey: string | undefined;
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #transferTimeoutMs: number;
  readonly #maxOutputTokens: number | undefined;
  readonly #authHeader: 'authorization' | 'api-key';
  readonly #metadata: Record<string, string>;
  /** Each request's JSONL line, made once: sized by requestBytes(), then uploaded by submit(). */
  readonly #lines = new WeakMap<BatchRequest, string>();

  constructor(options: OpenAIBatchOptions = {}) {
    this.#base = resolveBaseUrl(this.id, options.baseUrl ?? OPENAI_BASE_URL);
    this.baseUrl = this.#base.href;
    this.#apiKey = resolveApiKey(this.id, OPENAI_ENV, options.apiKey, this.#base);
    this.#timeoutMs = resolveTimeout(this.id, options.timeoutMs);
    this.#transferTimeoutMs = resolveTimeout(
      this.id,
      options.transferTimeoutMs ?? Math.max(DEFAULT_TRANSFER_TIMEOUT_MS, this.#timeoutMs),
    );
    this.detail = resolveDetail(options.detail);
    this.#maxOutputTokens = options.maxOutputTokens;
    this.#authHeader = options.authHeader ?? 'authorization';
    this.#metadata = { source: 'visionpipe', ...options.metadata };
    if (Object.keys(this.#metadata).length > MAX_METADATA) {
      throw new VisionpipeError(
        'INVALID_OPTION',
        `openai: metadata holds at most ${MAX_METADATA} pairs, "source" included (got ${Object.keys(this.#metadata).length})`,
        { option: 'metadata' },
      );
    }
    this.limits = resolveBatchLimits(this.id, options, OPENAI_BATCH_LIMITS);
    retainOrigin(this.#base.origin);
  }

  requestBytes(request: BatchRequest): number {
    return Buffer.byteLength(this.line(request)) + 1;
  }

  async submit(requests: readonly BatchRequest[], signal: AbortSignal): Promise<{ batchId: string }> {
    const parts: string[] = [];
    let bytes = 0;
    for (const request of requests) {
      const line = `${this.line(request)}\n`;
      bytes += Buffer.byteLength(line);
      parts.push(line);
    }
    assertWithinLimits(this.id, requests.length, bytes, this.limits);
    const form = new (undici().FormData)();
    form.set('purpose', 'batch');
    // The Blob copies the lines once; no joined string of up to 200 MB is built first.
    form.set('file', new Blob(parts, { type: 'application/jsonl' }), 'visionpipe-batch.jsonl');
    const file = await requestJson({
      provider: this.id,
      url: endpoint(this.#base, '/files'),
      method: 'POST',
      headers: this.headers(),
      form,
      timeoutMs: this.#transferTimeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    const { id: inputFileId } = parseWire(this.id, fileSchema, file.body, 'file object');
    const created = await requestJson({
      provider: this.id,
      url: endpoint(this.#base, '/batches'),
      method: 'POST',
      headers: this.headers(),
      json: {
        input_file_id: inputFileId,
        endpoint: OPENAI_BATCH_ENDPOINT,
        completion_window: '24h',
        metadata: this.#metadata,
      },
      timeoutMs: this.#timeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    return { batchId: parseWire(this.id, batchSchema, created.body, 'batch object').id };
  }

  async status(batchId: string, signal: AbortSignal): Promise<BatchStatus> {
    const batch = await this.retrieve(batchId, signal);
    const state: BatchState = batch.status;
    const message =
      batch.status === 'failed' ? redactSecrets(failureMessage(batch), [this.#apiKey]) : undefined;
    return {
      state,
      ...(batch.request_counts ? { counts: { ...batch.request_counts } } : {}),
      ...(message === undefined ? {} : { message }),
    };
  }

  async *results(
    batchId: string,
    signal: AbortSignal,
    requests?: ReadonlyMap<string, BatchRequestInfo>,
  ): AsyncGenerator<BatchItem> {
    const batch = await this.retrieve(batchId, signal);
    // Successful requests are in the output file, failed ones in the error file; an
    // expired or cancelled batch still has both for the requests that did run.
    for (const fileId of [batch.output_file_id, batch.error_file_id]) {
      if (!fileId) continue;
      const text = await downloadText({
        provider: this.id,
        url: endpoint(this.#base, `/files/${encodeURIComponent(fileId)}/content`),
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
  }

  async cancel(batchId: string, signal: AbortSignal): Promise<void> {
    await requestJson({
      provider: this.id,
      url: endpoint(this.#base, `/batches/${encodeURIComponent(batchId)}/cancel`),
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

  private line(request: BatchRequest): string {
    let line = this.#lines.get(request);
    if (line === undefined) {
      const model = request.model || OPENAI_DEFAULT_MODEL;
      line = JSON.stringify({
        custom_id: request.customId,
        method: 'POST',
        url: OPENAI_BATCH_ENDPOINT,
        body: openaiExtractionBody(request, model, this.detail, this.#maxOutputTokens),
      });
      this.#lines.set(request, line);
    }
    return line;
  }

  /** One output or error line → a result or an error; undefined when it names no request. */
  private readLine(
    batchId: string,
    value: unknown,
    line: number,
    requests: ReadonlyMap<string, BatchRequestInfo> | undefined,
  ): BatchItem | undefined {
    const customId = customIdOf(value);
    if (customId === undefined) return undefined;
    const parsed = outputLineSchema.safeParse(value);
    if (!parsed.success) {
      return {
        customId,
        error: new VisionpipeError(
          'BAD_RESPONSE',
          `openai: line ${line} of batch ${batchId} is not a result`,
        ),
      };
    }
    const { response, error } = parsed.data;
    if (response && response.status_code >= 200 && response.status_code < 300) {
      const info = requests?.get(customId);
      const model = info?.model || OPENAI_DEFAULT_MODEL;
      try {
        const result = readOpenAIExtraction(response.body, {
          model,
          imageTokens: info
            ? infoImages(info).reduce(
                (sum, one) => sum + openaiImageTokens(one.width, one.height, model, this.detail),
                0,
              )
            : 0,
          // The prompt is not kept in the state file; batch answers carry real usage.
          promptText: '',
        });
        return { customId, result };
      } catch (cause) {
        return { customId, error: asError(cause) };
      }
    }
    if (response) {
      return {
        customId,
        error: httpStatusError(this.id, response.status_code, {}, response.body, [this.#apiKey]),
      };
    }
    const code = (error?.code ? LINE_ERROR_CODES[error.code] : undefined) ?? 'PROVIDER_UNAVAILABLE';
    const said = [error?.code, error?.message].filter(Boolean).join(': ');
    return {
      customId,
      error: new VisionpipeError(
        code,
        redactSecrets(`openai: request in batch ${batchId} did not run${said ? `: ${said}` : ''}`, [
          this.#apiKey,
        ]),
      ),
    };
  }

  private async retrieve(batchId: string, signal: AbortSignal): Promise<Batch> {
    const response = await requestJson({
      provider: this.id,
      url: endpoint(this.#base, `/batches/${encodeURIComponent(batchId)}`),
      method: 'GET',
      headers: this.headers(),
      timeoutMs: this.#timeoutMs,
      signal,
      secrets: [this.#apiKey],
    });
    return parseWire(this.id, batchSchema, response.body, 'batch object');
  }

  private headers(): Record<string, string> {
    if (this.#apiKey === undefined) return {};
    return this.#authHeader === 'api-key'
      ? { 'api-key': this.#apiKey }
      : { authorization: `Bearer ${this.#apiKey}` };
  }
}

/** "line 3: invalid_request: …; line 7: …" from a failed batch's validation errors. */
function failureMessage(batch: Batch): string {
  const errors = batch.errors?.data ?? [];
  if (errors.length === 0) return 'the batch failed';
  const shown = errors.slice(0, 5).map((e) => {
    const where = e.line === undefined || e.line === null ? '' : `line ${e.line}: `;
    return `${where}${[e.code, e.message].filter(Boolean).join(': ')}`;
  });
  return `${shown.join('; ')}${errors.length > 5 ? `; and ${errors.length - 5} more` : ''}`;
}

function asError(cause: unknown): VisionpipeError {
  return cause instanceof VisionpipeError
    ? cause
    : new VisionpipeError('BAD_RESPONSE', `openai: unreadable batch result: ${String(cause)}`, { cause });
}
