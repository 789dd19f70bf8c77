/**
 * The HTTP client every remote provider uses: one pooled keep-alive undici Pool per
 * origin (a batch reuses warm TLS connections instead of paying a handshake per image),
 * compressed responses accepted and decoded, a timeout per request, and transport
 * failures mapped to typed errors. Status codes are mapped in http-errors.ts.
 */

import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FormData, Pool } from 'undici';
import { formatDuration } from '../cli/format.js';
import { VisionpipeError } from '../errors.js';
import { headerValue } from '../flow/headers.js';
import { undici } from '../on-first-use.js';
import { type HttpHeaders, httpStatusError } from './http-errors.js';
import { redactedPrefix, redactSecrets } from './secrets.js';
import type { RequestTokens } from './token-budget.js';

const pools = new Map<string, Pool>();
const users = new Map<string, number>();

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (pool === undefined || pool.closed || pool.destroyed) {
    pool = new (undici().Pool)(origin, {
      // The concurrency window upstream bounds in-flight calls; this only caps sockets.
      connections: 256,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
    });
    pools.set(origin, pool);
  }
  return pool;
}

/** A provider announces the origin it talks to; its pool lives until the last user releases it. */
export function retainOrigin(origin: string): void {
  users.set(origin, (users.get(origin) ?? 0) + 1);
}

export async function releaseOrigin(origin: string): Promise<void> {
  const left = (users.get(origin) ?? 1) - 1;
  if (left > 0) {
    users.set(origin, left);
    return;
  }
  users.delete(origin);
  const pool = pools.get(origin);
  pools.delete(origin);
  if (pool && !pool.closed && !pool.destroyed) await pool.close();
}

/** Closes every pooled connection (end of a run, tests). */
export async function closeAllAgents(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  users.clear();
  await Promise.all(all.filter((p) => !p.closed && !p.destroyed).map((p) => p.close()));
}

export interface HttpRequest {
  /** Provider id, for messages. */
  provider: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer | FormData;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Values that must never appear in an error message (the API key). */
  secrets?: ReadonlyArray<string | undefined>;
  /** Refuse bodies larger than this once decoded (default 64 MB). */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: HttpHeaders;
  /** Decoded (decompressed) body. */
  body: Buffer;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function transportError(
  request: HttpRequest,
  error: unknown,
  timeout: AbortSignal,
  phase: string,
): VisionpipeError {
  if (error instanceof VisionpipeError) return error;
  const origin = new URL(request.url).origin;
  if (request.signal?.aborted) {
    return new VisionpipeError('ABORTED', `${request.provider}: request to ${origin} aborted`, {
      cause: error,
    });
  }
  const code = errorCode(error);
  if (timeout.aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new VisionpipeError(
      'PROVIDER_TIMEOUT',
      `${request.provider}: no complete answer from ${origin} within ${formatDuration(request.timeoutMs)} (${phase})`,
      { cause: error },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new VisionpipeError(
    'CONNECTION_FAILED',
    redactSecrets(
      `${request.provider}: connection to ${origin} failed${code ? ` (${code})` : ''}: ${detail}`,
      request.secrets,
    ),
    { cause: error },
  );
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotli = promisify(zlib.brotliDecompress);

/** undici's `request` hands back the bytes as sent: undo each Content-Encoding, last applied first. */
async function decode(body: Buffer, encoding: string | undefined, limit: number): Promise<Buffer> {
  if (encoding === undefined) return body;
  const codings = encoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  let out = body;
  for (const coding of codings.reverse()) {
    const options = { maxOutputLength: limit };
    if (coding === 'gzip' || coding === 'x-gzip') out = await gunzip(out, options);
    else if (coding === 'br') out = await brotli(out, options);
    // "deflate" is zlib-wrapped by the spec, raw deflate in some servers' hands.
    else if (coding === 'deflate') out = await inflate(out, options).catch(() => inflateRaw(out, options));
    else throw new Error(`unsupported content-encoding "${coding}"`);
  }
  return out;
}

/** One request through the origin's pool; resolves for every HTTP status (callers map them). */
export async function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const url = new URL(request.url);
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const limit = request.maxResponseBytes ?? 64 * 1024 * 1024;
  let phase = 'waiting for headers';
  try {
    const response = await poolFor(url.origin).request({
      path: `${url.pathname}${url.search}`,
      method: request.method ?? 'GET',
      headers: {
        'accept-encoding': 'gzip, deflate, br',
        'user-agent': 'visionpipe',
        ...request.headers,
      },
      body: request.body ?? null,
      signal,
      headersTimeout: request.timeoutMs,
      bodyTimeout: request.timeoutMs,
    });
    phase = 'reading the body';
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > limit) {
        response.body.destroy();
        throw new VisionpipeError(
          'BAD_RESPONSE',
          `${request.provider}: response from ${url.origin} is larger than ${limit} bytes`,
        );
      }
      chunks.push(buffer);
    }
    const headers = response.headers as HttpHeaders;
    let body: Buffer;
    try {
      body = await decode(Buffer.concat(chunks), headerValue(headers, 'content-encoding'), limit);
    } catch (error) {
      throw new VisionpipeError(
        'BAD_RESPONSE',
        `${request.provider}: could not decode the ${headerValue(headers, 'content-encoding')} response from ${url.origin}: ${(error as Error).message}`,
        { status: response.statusCode, cause: error },
      );
    }
    return { status: response.statusCode, headers, body };
  } catch (error) {
    throw transportError(request, error, timeout, phase);
  }
}

export interface JsonRequest extends Omit<HttpRequest, 'body'> {
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as multipart/form-data. */
  form?: FormData;
  /** What the request is estimated to need, to read a refusal for the per-minute token budget (token-budget.ts). */
  tokens?: RequestTokens;
}

export interface JsonResponse {
  status: number;
  headers: HttpHeaders;
  body: unknown;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** How much of a body that is not JSON an error keeps for the record (characters). */
const RAW_BODY_CHARS = 4000;

/**
 * A JSON API call: resolves with the parsed body of a 2xx answer; throws the mapped
 * VisionpipeError for any other status, BAD_RESPONSE for a 2xx body that is not JSON.
 */
export async function requestJson(request: JsonRequest): Promise<JsonResponse> {
  const { json, form, tokens, ...rest } = request;
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  let body: string | FormData | undefined;
  if (json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // undici writes the multipart boundary and content-type
  }
  const response = await httpRequest({ ...rest, headers, ...(body === undefined ? {} : { body }) });
  const text = response.body.toString('utf8');
  const parsed = parseJson(text);
  if (response.status < 200 || response.status >= 300) {
    throw httpStatusError(
      request.provider,
      response.status,
      response.headers,
      parsed.ok ? parsed.value : redactedPrefix(text, 300, { secrets: request.secrets }),
      request.secrets,
      tokens,
    );
  }
  if (!parsed.ok) {
    throw new VisionpipeError(
      'BAD_RESPONSE',
      redactSecrets(
        `${request.provider}: HTTP ${response.status} with a body that is not JSON (${text.length} bytes: ${JSON.stringify(redactedPrefix(text, 60, { secrets: request.secrets }))}…)`,
        request.secrets,
      ),
      // The body is the answer that failed: the record keeps it (raw_output, cut there).
      { status: response.status, raw: redactedPrefix(text, RAW_BODY_CHARS, { secrets: request.secrets }) },
    );
  }
  return { status: response.status, headers: response.headers, body: parsed.value };
}
