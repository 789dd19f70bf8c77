/**
 * OpenAI's Files and Batch APIs, as much as a batch of chat completions needs:
 * `POST /v1/files` (multipart `file` + `purpose`), `GET /v1/files/{id}` and
 * `/content`, `POST /v1/batches`, `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`.
 * A batch moves validating → in_progress → finalizing → completed over one latency draw
 * per request (plus one to validate and one to finalize), answering each line exactly as
 * `POST /v1/chat/completions` would; outputs and errors land in two JSONL files, in no
 * particular order. Auth, error bodies and rate limits are the chat endpoint's.
 * Facts: https://platform.openai.com/docs/guides/batch and the API reference for files
 * and batches (docs/providers.md).
 */
import { z } from 'zod';
import { answerLine, lineFailure, shuffled, simId, wait } from './batch-lines.js';
import { type Context, type Core, describeIssue, type Family, type Parsed, type Reply } from './core.js';
import { openaiFamily } from './openai.js';
import type { BatchLineFailure } from './types.js';

const MAX_FILE_BYTES = 200_000_000;
const MAX_REQUESTS = 50_000;
const PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
const ENDPOINTS = [
  '/v1/responses',
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/completions',
  '/v1/moderations',
];
const CHAT = '/v1/chat/completions';
const CHAT_ROUTE = 'openai POST /v1/chat/completions';

interface SimFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
  expires_at: number | null;
}

interface StoredFile {
  file: SimFile;
  owner: string;
  data: Buffer;
}

type BatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';

interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

interface SimBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: { object: 'list'; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

const createSchema = z
  .object({
    input_file_id: z.string().min(1),
    endpoint: z.string(),
    completion_window: z.string(),
    metadata: z.record(z.string().max(64), z.string().max(512)).nullish(),
    output_expires_after: z.object({ anchor: z.literal('created_at'), seconds: z.number().int() }).optional(),
  })
  .strict();

const inputLineSchema = z.object({
  custom_id: z.string().min(1),
  method: z.string(),
  url: z.string(),
  body: z.record(z.string(), z.unknown()),
});

type InputLine = z.infer<typeof inputLineSchema>;

function errorReply(
  status: number,
  message: string,
  code: string | null = null,
  param: string | null = null,
): Reply {
  return { status, body: { error: { message, type: 'invalid_request_error', param, code } } };
}

const now = () => Math.floor(Date.now() / 1000);

/** The input file's lines, or the validation errors that fail the batch (as `errors.data`). */
function validate(text: string, endpoint: string): { lines: InputLine[]; errors: BatchError[] } {
  const lines: InputLine[] = [];
  const errors: BatchError[] = [];
  const ids = new Set<string>();
  let model: unknown;
  const error = (line: number, code: string, message: string, param: string | null = null) =>
    errors.push({ code, message, param, line });
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      error(line, 'invalid_json_line', 'This line is not parseable as valid JSON.');
      return;
    }
    const parsed = inputLineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = describeIssue(parsed.error);
      error(line, 'missing_required_parameter', `Missing or invalid parameter: ${issue.path}.`, issue.path);
      return;
    }
    const entry = parsed.data;
    if (entry.method !== 'POST') error(line, 'invalid_method', 'Only POST is supported.', 'method');
    else if (entry.url !== endpoint)
      error(
        line,
        'invalid_url',
        `The URL provided for this request does not match the batch endpoint ${endpoint}.`,
        'url',
      );
    else if (ids.has(entry.custom_id))
      error(
        line,
        'duplicate_custom_id',
        `The custom_id for this request is a duplicate of another request.`,
        'custom_id',
      );
    else if (model !== undefined && entry.body.model !== model)
      error(
        line,
        'mismatched_model',
        'The provided model is different from the model of other requests in the file.',
        'body.model',
      );
    else {
      ids.add(entry.custom_id);
      model = entry.body.model;
      lines.push(entry);
    }
  });
  if (lines.length + errors.length === 0)
    errors.push({ code: 'empty_file', message: 'The input file is empty.', param: null, line: null });
  if (lines.length > MAX_REQUESTS)
    errors.push({
      code: 'too_many_requests',
      message: `The input file holds ${lines.length} requests; the limit is ${MAX_REQUESTS}.`,
      param: null,
      line: null,
    });
  return { lines, errors };
}

export function createOpenAIBatchFamily(core: Core): Family {
  const files = new Map<string, StoredFile>();
  const batches = new Map<string, { batch: SimBatch; owner: string }>();

  function storeFile(owner: string, data: Buffer, filename: string, purpose: string): SimFile {
    const file: SimFile = {
      id: simId('file-'),
      object: 'file',
      bytes: data.length,
      created_at: now(),
      filename,
      purpose,
      status: 'processed',
      status_details: null,
      expires_at: null,
    };
    files.set(file.id, { file, owner, data });
    return file;
  }

  const jsonl = (records: unknown[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

  async function run(batch: SimBatch, owner: string, create: Context): Promise<void> {
    if (!(await wait(core, core.latencyMs()))) return;
    const input = files.get(batch.input_file_id);
    const { lines, errors } = validate(input?.data.toString('utf8') ?? '', batch.endpoint);
    if (errors.length > 0) {
      batch.status = 'failed';
      batch.failed_at = now();
      batch.errors = { object: 'list', data: errors };
      return;
    }
    batch.status = batch.status === 'cancelling' ? 'cancelling' : 'in_progress';
    batch.in_progress_at = now();
    batch.request_counts.total = lines.length;
    const outputs: unknown[] = [];
    const failures: unknown[] = [];
    let expired = false;
    for (const line of lines) {
      const failure: BatchLineFailure | undefined = expired ? 'expired' : lineFailure(core, line.custom_id);
      const id = simId('batch_req_');
      if (failure === 'expired' || batch.status === 'cancelling') {
        expired ||= failure === 'expired';
        failures.push({
          id,
          custom_id: line.custom_id,
          response: null,
          error: expired
            ? {
                code: 'batch_expired',
                message: 'This request could not be executed before the completion window expired.',
              }
            : {
                code: 'batch_cancelled',
                message: 'This request could not be executed before the batch was cancelled.',
              },
        });
        batch.request_counts.failed++;
        continue;
      }
      let answer: Awaited<ReturnType<typeof answerLine>>;
      try {
        answer = await answerLine(openaiFamily, create, CHAT_ROUTE, line.body, failure);
      } catch {
        return; // the simulator is closing
      }
      const record = {
        id,
        custom_id: line.custom_id,
        response: { status_code: answer.status, request_id: answer.requestId, body: answer.body },
        error: null,
      };
      if (answer.status === 200) {
        outputs.push(record);
        batch.request_counts.completed++;
      } else {
        failures.push(record);
        batch.request_counts.failed++;
      }
    }
    const ending: BatchStatus = expired
      ? 'expired'
      : batch.status === 'cancelling'
        ? 'cancelled'
        : 'completed';
    if (ending === 'completed') {
      batch.status = 'finalizing';
      batch.finalizing_at = now();
      if (!(await wait(core, core.latencyMs()))) return;
    }
    if (outputs.length > 0)
      batch.output_file_id = storeFile(
        owner,
        Buffer.from(jsonl(shuffled(outputs, core))),
        `${batch.id}_output.jsonl`,
        'batch_output',
      ).id;
    if (failures.length > 0)
      batch.error_file_id = storeFile(
        owner,
        Buffer.from(jsonl(shuffled(failures, core))),
        `${batch.id}_error.jsonl`,
        'batch_output',
      ).id;
    batch.status = ending;
    if (ending === 'completed') batch.completed_at = now();
    else if (ending === 'expired') batch.expired_at = now();
    else batch.cancelled_at = now();
  }

  function owned<T extends { owner: string }>(entry: T | undefined, ctx: Context): T | undefined {
    return entry !== undefined && entry.owner === ctx.apiKey ? entry : undefined;
  }

  // Read when the answer is sent (after latency and faults), not when the request arrived.
  const ok = (body: () => unknown): Parsed => ({
    inputTokens: 0,
    imageTokens: 0,
    reply: () => ({ status: 200, body: body() }),
  });

  function uploadFile(ctx: Context): Parsed | Reply {
    if (ctx.form === undefined)
      return errorReply(
        400,
        "Invalid request: the body must be multipart/form-data with 'file' and 'purpose'.",
      );
    const purpose = ctx.form.purpose;
    if (typeof purpose !== 'string')
      return errorReply(400, "Missing required parameter: 'purpose'.", null, 'purpose');
    if (!PURPOSES.includes(purpose))
      return errorReply(
        400,
        `'${purpose}' is not one of ${JSON.stringify(PURPOSES)} - 'purpose'`,
        null,
        'purpose',
      );
    const file = ctx.form.file;
    if (file === undefined || typeof file === 'string')
      return errorReply(400, "Missing required parameter: 'file'.", null, 'file');
    if (purpose === 'batch' && !file.filename.endsWith('.jsonl'))
      return errorReply(
        400,
        'Invalid file format for Batch API. Must be .jsonl',
        'invalid_file_format',
        'file',
      );
    if (purpose === 'batch' && file.size > MAX_FILE_BYTES)
      return errorReply(
        400,
        `File is too large: ${file.size} bytes; the Batch API accepts up to 200 MB.`,
        'file_too_large',
        'file',
      );
    const owner = ctx.apiKey ?? '';
    return {
      inputTokens: 0,
      imageTokens: 0,
      reply: () => ({ status: 200, body: storeFile(owner, file.data, file.filename, purpose) }),
    };
  }

  function createBatch(ctx: Context): Parsed | Reply {
    if (ctx.json === undefined) return errorReply(400, 'We could not parse the JSON body of your request.');
    const parsed = createSchema.safeParse(ctx.json);
    if (!parsed.success) {
      const issue = describeIssue(parsed.error);
      return errorReply(400, `Invalid value for '${issue.path}': ${issue.message}`, null, issue.path);
    }
    const request = parsed.data;
    const input = owned(files.get(request.input_file_id), ctx);
    if (input === undefined)
      return errorReply(404, `No such File object: ${request.input_file_id}`, null, 'input_file_id');
    if (input.file.purpose !== 'batch')
      return errorReply(
        400,
        `File ${request.input_file_id} has purpose '${input.file.purpose}', not 'batch'.`,
        null,
        'input_file_id',
      );
    if (!ENDPOINTS.includes(request.endpoint))
      return errorReply(400, `Invalid endpoint: '${request.endpoint}'.`, null, 'endpoint');
    if (request.endpoint !== CHAT)
      return errorReply(
        400,
        `The simulator runs ${CHAT} batches only (got ${request.endpoint}).`,
        null,
        'endpoint',
      );
    if (request.completion_window !== '24h')
      return errorReply(
        400,
        "Invalid value for 'completion_window': only '24h' is supported.",
        null,
        'completion_window',
      );
    if (request.metadata && Object.keys(request.metadata).length > 16)
      return errorReply(400, "Invalid 'metadata': at most 16 key-value pairs.", null, 'metadata');
    const owner = ctx.apiKey ?? '';
    return {
      inputTokens: 0,
      imageTokens: 0,
      reply: () => {
        const created = now();
        const batch: SimBatch = {
          id: simId('batch_'),
          object: 'batch',
          endpoint: request.endpoint,
          errors: null,
          input_file_id: request.input_file_id,
          completion_window: '24h',
          status: 'validating',
          output_file_id: null,
          error_file_id: null,
          created_at: created,
          in_progress_at: null,
          expires_at: created + 24 * 3600,
          finalizing_at: null,
          completed_at: null,
          failed_at: null,
          expired_at: null,
          cancelling_at: null,
          cancelled_at: null,
          request_counts: { total: 0, completed: 0, failed: 0 },
          metadata: request.metadata ?? null,
        };
        batches.set(batch.id, { batch, owner });
        core.stats.batchesCreated++;
        core.stats.batchRequests += input.data
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim() !== '').length;
        void run(batch, owner, ctx).catch(() => {});
        return { status: 200, body: { ...batch } };
      },
    };
  }

  return {
    ...openaiFamily,

    route(method, pathname) {
      if (method === 'POST' && pathname === '/v1/files') return 'openai POST /v1/files';
      if (method === 'GET' && /^\/v1\/files\/[^/]+\/content$/.test(pathname))
        return 'openai GET /v1/files/{id}/content';
      if (method === 'GET' && /^\/v1\/files\/[^/]+$/.test(pathname)) return 'openai GET /v1/files/{id}';
      if (method === 'POST' && pathname === '/v1/batches') return 'openai POST /v1/batches';
      if (method === 'GET' && /^\/v1\/batches\/[^/]+$/.test(pathname)) return 'openai GET /v1/batches/{id}';
      if (method === 'POST' && /^\/v1\/batches\/[^/]+\/cancel$/.test(pathname))
        return 'openai POST /v1/batches/{id}/cancel';
      return undefined;
    },

    async parse(ctx: Context): Promise<Parsed | Reply> {
      const segments = ctx.url.pathname.split('/').map(decodeURIComponent);
      const id = segments[3] ?? '';
      switch (ctx.route) {
        case 'openai POST /v1/files':
          return uploadFile(ctx);
        case 'openai POST /v1/batches':
          return createBatch(ctx);
        case 'openai GET /v1/files/{id}':
        case 'openai GET /v1/files/{id}/content': {
          const stored = owned(files.get(id), ctx);
          if (stored === undefined) return errorReply(404, `No such File object: ${id}`, null, 'id');
          if (ctx.route === 'openai GET /v1/files/{id}') return ok(() => stored.file);
          if (stored.file.purpose === 'batch')
            return errorReply(400, 'Not allowed to download files of purpose: batch');
          return {
            inputTokens: 0,
            imageTokens: 0,
            reply: () => ({
              status: 200,
              body: null,
              raw: stored.data.toString('utf8'),
              headers: { 'content-type': 'application/octet-stream' },
            }),
          };
        }
        default: {
          const entry = owned(batches.get(id), ctx);
          if (entry === undefined)
            return errorReply(404, `No batch found with id '${id}'.`, 'batch_not_found');
          const batch = entry.batch;
          if (ctx.route === 'openai POST /v1/batches/{id}/cancel') {
            if (!['validating', 'in_progress', 'cancelling'].includes(batch.status))
              return errorReply(409, `Cannot cancel a batch with status '${batch.status}'.`);
            return {
              inputTokens: 0,
              imageTokens: 0,
              reply: () => {
                if (batch.status !== 'cancelling') {
                  batch.status = 'cancelling';
                  batch.cancelling_at = now();
                }
                return { status: 200, body: { ...batch } };
              },
            };
          }
          return ok(() => ({ ...batch }));
        }
      }
    },
  };
}
