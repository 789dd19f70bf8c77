/**
 * What both batch backends need besides JSON calls: downloading a JSONL results file
 * through the pooled client (http.ts: same pools, error mapping and secrets redaction as
 * every other call), splitting it into lines, and turning a per-request error report into
 * a typed VisionpipeError.
 */
import { type ErrorCode, VisionpipeError } from '../../errors.js';
import { type HttpRequest, httpRequest } from '../http.js';
import { httpStatusError } from '../http-errors.js';
import { redactedPrefix, redactSecrets } from '../secrets.js';

/**
 * Results files are text only (no images) but a 50 000-request batch can still reach a
 * few hundred MB; http.ts buffers bodies, so the ceiling is raised for downloads. Smaller
 * batches (`maxRequestsPerBatch`) keep memory lower.
 */
export const MAX_RESULTS_BYTES = 1024 * 1024 * 1024;

/** Uploads and downloads of whole files get longer than a single call (default 10 min). */
export const DEFAULT_TRANSFER_TIMEOUT_MS = 600_000;

/** A GET of a text file (JSONL); non-2xx answers are mapped like every other call. */
export async function downloadText(request: Omit<HttpRequest, 'method' | 'body'>): Promise<string> {
  const response = await httpRequest({
    maxResponseBytes: MAX_RESULTS_BYTES,
    ...request,
    method: 'GET',
  });
  const text = response.body.toString('utf8');
  if (response.status < 200 || response.status >= 300) {
    let body: unknown = redactedPrefix(text, 300, { secrets: request.secrets });
    try {
      body = JSON.parse(text);
    } catch {}
    throw httpStatusError(request.provider, response.status, response.headers, body, request.secrets);
  }
  return text;
}

/** Each non-empty line of a JSONL text, parsed; a line that is not JSON comes back as `undefined`. */
export function* jsonLines(text: string): Generator<{ line: number; value: unknown }> {
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end).trim();
    line++;
    start = end + 1;
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    yield { line, value };
  }
}

/** A custom id read from an unknown line, when it has one. */
export function customIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { custom_id?: unknown }).custom_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * Error types as Anthropic names them (and OpenAI's `type`s where they coincide), to our
 * codes. A request's own error inside a batch has no HTTP status of its own.
 */
const ERROR_TYPES: Record<string, ErrorCode> = {
  invalid_request_error: 'BAD_REQUEST',
  not_found_error: 'BAD_REQUEST',
  request_too_large: 'BAD_REQUEST',
  authentication_error: 'AUTH_FAILED',
  permission_error: 'AUTH_FAILED',
  billing_error: 'QUOTA_EXCEEDED',
  rate_limit_error: 'RATE_LIMITED',
  api_error: 'PROVIDER_UNAVAILABLE',
  overloaded_error: 'PROVIDER_UNAVAILABLE',
  timeout_error: 'PROVIDER_TIMEOUT',
};

/** The error of one request inside a batch, from the provider's error type and words. */
export function requestError(
  provider: string,
  batchId: string,
  type: string | undefined,
  message: string | undefined,
  secrets: ReadonlyArray<string | undefined>,
): VisionpipeError {
  const code = (type !== undefined ? ERROR_TYPES[type] : undefined) ?? 'PROVIDER_UNAVAILABLE';
  const said = message ? `: ${redactedPrefix(message, 500, { secrets })}` : '';
  return new VisionpipeError(
    code,
    redactSecrets(
      `${provider}: request in batch ${batchId} errored${type ? ` (${type})` : ''}${said}`,
      secrets,
    ),
  );
}
