/**
 * The simulator's request log (`visionpipe simulate --log requests.jsonl`): one entry per
 * HTTP request it received and what it answered, so a user can see what their client
 * really sent (sizes, content types, headers) and why it was refused. Credentials never
 * reach it: credential headers are replaced by `[redacted]`, key-shaped values and secret
 * query parameters (Gemini's `?key=`) are redacted wherever they appear.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { REDACTED, redactSecrets } from '../secrets.js';

/** One request and its answer. Times in ms, sizes in bytes. */
export interface RequestLogEntry {
  /** ISO time the request arrived. */
  time: string;
  method: string;
  /** Path and query, secrets redacted. */
  path: string;
  /** The simulated route (e.g. `openai POST /v1/chat/completions`), null when none matched. */
  route: string | null;
  request: {
    headers: Record<string, string>;
    content_type: string | null;
    bytes: number;
  };
  response: {
    status: number;
    bytes: number;
    /** The answer's body (truncated) when it is an error (status ≥ 400). */
    error?: string;
  };
  duration_ms: number;
}

const CREDENTIAL_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
]);

/** The longest error body kept in a log entry, characters. */
export const LOGGED_ERROR_CHARS = 500;

/** Request headers as logged: credential headers replaced, other values redacted as text. */
export function loggedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[name] = CREDENTIAL_HEADERS.has(name.toLowerCase()) ? REDACTED : redactSecrets(text);
  }
  return out;
}

/** An error body as logged: redacted and truncated. */
export function loggedError(text: string): string {
  const clean = redactSecrets(text);
  return clean.length > LOGGED_ERROR_CHARS ? `${clean.slice(0, LOGGED_ERROR_CHARS)}…` : clean;
}
