/**
 * Anthropic's Message Batches: `POST /v1/messages/batches` (`requests: [{custom_id,
 * params}]`), `GET /v1/messages/batches/{id}`, `GET /v1/messages/batches/{id}/results`
 * (the `results_url`, JSONL) and `POST …/{id}/cancel`. A batch stays `in_progress` for
 * one latency draw per request, answering each `params` exactly as `POST /v1/messages`
 * would (a body that fails validation is that request's `errored` result, as the real
 * API validates params asynchronously), then `ended`. Auth, `anthropic-version` and
 * error bodies are the Messages endpoint's.
 * Facts: https://docs.anthropic.com/en/docs/build-with-claude/batch-processing and the
 * Message Batches API reference (docs/providers.md).
 */
import { z } from 'zod';
import { anthropicFamily } from './anthropic.js';
import { answerLine, lineFailure, shuffled, simId, wait } from './batch-lines.js';
import { type Context, type Core, describeIssue, type Family, type Parsed, type Reply } from './core.js';
import type { BatchLineFailure } from './types.js';

const MAX_REQUESTS = 100_000;
const MAX_BYTES = 256_000_000;
const MESSAGES_ROUTE = 'anthropic POST /v1/messages';

type ProcessingStatus = 'in_progress' | 'canceling' | 'ended';

interface SimMessageBatch {
  id: string;
  type: 'message_batch';
  processing_status: ProcessingStatus;
  request_counts: {
    processing: number;
    succeeded: number;
    errored: number;
    canceled: number;
    expired: number;
  };
  ended_at: string | null;
  created_at: string;
  expires_at: string;
  archived_at: string | null;
  cancel_initiated_at: string | null;
  results_url: string | null;
}

const createSchema = z
  .object({
    requests: z
      .array(
        z
          .object({
            custom_id: z
              .string()
              .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'String should match pattern ^[a-zA-Z0-9_-]{1,64}$'),
            params: z.record(z.string(), z.unknown()),
          })
          .strict(),
      )
      .min(1, 'List should have at least 1 item')
      .max(MAX_REQUESTS, `List should have at most ${MAX_REQUESTS} items`),
  })
  .strict();

type CreateRequest = z.infer<typeof createSchema>['requests'][number];

function errorReply(status: number, type: string, message: string): Reply {
  return { status, body: { type: 'error', error: { type, message }, request_id: 'req_simulator' } };
}

const iso = (ms = Date.now()) => new Date(ms).toISOString();

export function createAnthropicBatchFamily(core: Core): Family {
  const batches = new Map<string, { batch: SimMessageBatch; owner: string; results: unknown[] }>();

  async function run(
    entry: { batch: SimMessageBatch; results: unknown[] },
    requests: CreateRequest[],
    create: Context,
  ): Promise<void> {
    const { batch, results } = entry;
    const counts = batch.request_counts;
    let expired = false;
    // A request counts as processing until its result is in: the counts always add up.
    const done = (
      customId: string,
      result: Record<string, unknown>,
      counter: Exclude<keyof typeof counts, 'processing'>,
    ) => {
      results.push({ custom_id: customId, result });
      counts.processing--;
      counts[counter]++;
    };
    for (const request of requests) {
      const failure: BatchLineFailure | undefined = expired
        ? 'expired'
        : lineFailure(core, request.custom_id);
      if (failure === 'expired') {
        expired = true;
        done(request.custom_id, { type: 'expired' }, 'expired');
        continue;
      }
      if (batch.processing_status === 'canceling') {
        done(request.custom_id, { type: 'canceled' }, 'canceled');
        continue;
      }
      let answer: Awaited<ReturnType<typeof answerLine>>;
      try {
        answer = await answerLine(anthropicFamily, create, MESSAGES_ROUTE, request.params, failure);
      } catch {
        return; // the simulator is closing
      }
      if (answer.status === 200)
        done(request.custom_id, { type: 'succeeded', message: answer.body }, 'succeeded');
      else done(request.custom_id, { type: 'errored', error: answer.body }, 'errored');
    }
    if (!(await wait(core, core.latencyMs()))) return;
    entry.results = shuffled(results, core);
    batch.processing_status = 'ended';
    batch.ended_at = iso();
    batch.results_url = `${core.url}/v1/messages/batches/${batch.id}/results`;
  }

  function createBatch(ctx: Context): Parsed | Reply {
    if (ctx.json === undefined)
      return errorReply(400, 'invalid_request_error', 'Request body is not valid JSON');
    if (ctx.body.length > MAX_BYTES)
      return errorReply(
        413,
        'request_too_large',
        `Request exceeds the maximum allowed size of ${MAX_BYTES} bytes`,
      );
    const parsed = createSchema.safeParse(ctx.json);
    if (!parsed.success) {
      const issue = describeIssue(parsed.error);
      return errorReply(400, 'invalid_request_error', `${issue.path}: ${issue.message}`);
    }
    const requests = parsed.data.requests;
    const ids = new Set<string>();
    for (const [index, request] of requests.entries()) {
      if (ids.has(request.custom_id))
        return errorReply(
          400,
          'invalid_request_error',
          `requests.${index}.custom_id: Duplicate custom_id "${request.custom_id}"; each request in a batch needs a unique custom_id`,
        );
      ids.add(request.custom_id);
    }
    const owner = ctx.apiKey ?? '';
    return {
      inputTokens: 0,
      imageTokens: 0,
      reply: () => {
        const created = Date.now();
        const batch: SimMessageBatch = {
          id: simId('msgbatch_'),
          type: 'message_batch',
          processing_status: 'in_progress',
          request_counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
          ended_at: null,
          created_at: iso(created),
          expires_at: iso(created + 24 * 3600 * 1000),
          archived_at: null,
          cancel_initiated_at: null,
          results_url: null,
        };
        const entry = { batch, owner, results: [] as unknown[] };
        batches.set(batch.id, entry);
        core.stats.batchesCreated++;
        core.stats.batchRequests += requests.length;
        void run(entry, requests, ctx).catch(() => {});
        return { status: 200, body: { ...batch, request_counts: { ...batch.request_counts } } };
      },
    };
  }

  return {
    ...anthropicFamily,

    route(method, pathname) {
      if (method === 'POST' && pathname === '/v1/messages/batches')
        return 'anthropic POST /v1/messages/batches';
      if (method === 'GET' && /^\/v1\/messages\/batches\/[^/]+$/.test(pathname))
        return 'anthropic GET /v1/messages/batches/{id}';
      if (method === 'GET' && /^\/v1\/messages\/batches\/[^/]+\/results$/.test(pathname))
        return 'anthropic GET /v1/messages/batches/{id}/results';
      if (method === 'POST' && /^\/v1\/messages\/batches\/[^/]+\/cancel$/.test(pathname))
        return 'anthropic POST /v1/messages/batches/{id}/cancel';
      return undefined;
    },

    async parse(ctx: Context): Promise<Parsed | Reply> {
      if (ctx.req.headers['anthropic-version'] === undefined)
        return errorReply(400, 'invalid_request_error', 'anthropic-version: header is required');
      if (ctx.route === 'anthropic POST /v1/messages/batches') return createBatch(ctx);
      const id = decodeURIComponent(ctx.url.pathname.split('/')[4] ?? '');
      const entry = batches.get(id);
      if (entry === undefined || entry.owner !== ctx.apiKey)
        return errorReply(404, 'not_found_error', `message batch ${id} not found`);
      const snapshot = () => ({ ...entry.batch, request_counts: { ...entry.batch.request_counts } });
      if (ctx.route === 'anthropic GET /v1/messages/batches/{id}/results') {
        if (entry.batch.processing_status !== 'ended')
          return errorReply(
            400,
            'invalid_request_error',
            `Batch ${id} has not ended; results are not available yet`,
          );
        return {
          inputTokens: 0,
          imageTokens: 0,
          reply: () => ({
            status: 200,
            body: null,
            raw: entry.results.map((r) => `${JSON.stringify(r)}\n`).join(''),
            headers: { 'content-type': 'application/binary' },
          }),
        };
      }
      if (ctx.route === 'anthropic POST /v1/messages/batches/{id}/cancel') {
        return {
          inputTokens: 0,
          imageTokens: 0,
          reply: () => {
            if (entry.batch.processing_status === 'in_progress') {
              entry.batch.processing_status = 'canceling';
              entry.batch.cancel_initiated_at = iso();
            }
            return { status: 200, body: snapshot() };
          },
        };
      }
      return { inputTokens: 0, imageTokens: 0, reply: () => ({ status: 200, body: snapshot() }) };
    },
  };
}
