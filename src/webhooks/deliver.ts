/**
 * One delivery attempt: POST the event body, signed, to its URL, with a hard timeout
 * (default 15 s, headers and body together). The answer decides what follows:
 * 2xx delivered; 410 Gone disables the endpoint; 429 and 503 wait what `Retry-After`
 * says; anything else (another status, a redirect, a refused connection, a timeout, an
 * address the guard refuses) is retried on the schedule. Only the first 1 KB of an
 * answer is kept for the delivery log.
 */

import { isIP } from 'node:net';
import type { Agent, Dispatcher } from 'undici';
import { parseRetryAfter } from '../flow/retry-after.js';
import { BlockedAddressError, classifyAddress, guardedLookup, unbracket } from '../image/address-policy.js';
import { undici } from '../on-first-use.js';
import { redactedPrefix } from '../secrets.js';
import { deliveryHeaders } from './signing.js';

export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;
/** What `--webhook-timeout` may be: at least a second, at most a minute. */
export const DELIVERY_TIMEOUT_BOUNDS_MS = { min: 1_000, max: 60_000 } as const;
const KEPT_BODY = 1024;

export interface AttemptResult {
  requestedAt: Date;
  durationMs: number;
  /** The HTTP status, null when none came back. */
  status: number | null;
  body: string | null;
  error: string | null;
  /** From `Retry-After` / `retry-after-ms` on 429 and 503. */
  retryAfterMs: number | undefined;
}

let publicAgent: Agent | undefined;
let privateAgent: Agent | undefined;

/** One pooled agent per address policy; the public one refuses non-public addresses at connect time. */
function agentFor(allowPrivate: boolean): Dispatcher {
  if (allowPrivate) {
    privateAgent ??= new (undici().Agent)({ keepAliveTimeout: 4_000, connections: 64 });
    return privateAgent;
  }
  publicAgent ??= new (undici().Agent)({
    keepAliveTimeout: 4_000,
    connections: 64,
    connect: { lookup: guardedLookup },
  });
  return publicAgent;
}

/**
 * An IP-literal URL never reaches the guarded DNS lookup (undici connects to it directly),
 * so its address is checked here: every spelling of an inside address is refused at
 * delivery as at registration, whatever allowed it when it was stored.
 */
function checkLiteral(url: string): void {
  const host = unbracket(new URL(url).hostname);
  if (!isIP(host)) return;
  const verdict = classifyAddress(host);
  if (!verdict.allowed) throw new BlockedAddressError(host, host, verdict.range);
}

async function readStart(body: Dispatcher.ResponseData['body']): Promise<string> {
  let kept = '';
  for await (const chunk of body) {
    if (kept.length < KEPT_BODY) kept += (chunk as Buffer).toString('utf8');
  }
  return redactedPrefix(kept, KEPT_BODY);
}

function describe(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  let current: unknown = error;
  const parts: string[] = [];
  for (let depth = 0; current && depth < 4; depth++) {
    const e = current as { message?: unknown; code?: unknown; cause?: unknown };
    const text = [
      typeof e.code === 'string' ? e.code : undefined,
      typeof e.message === 'string' ? e.message : undefined,
    ]
      .filter(Boolean)
      .join(' ');
    if (text && !parts.includes(text)) parts.push(text);
    current = e.cause;
  }
  return parts.join(': ') || String(error);
}

/** Sends one attempt; never throws. */
export async function attemptDelivery(options: {
  url: string;
  id: string;
  body: string;
  secret: string | undefined;
  timeoutMs?: number;
  allowPrivate: boolean;
}): Promise<AttemptResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const requestedAt = new Date();
  const started = performance.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    if (!options.allowPrivate) checkLiteral(options.url);
    const answer = await undici().request(options.url, {
      method: 'POST',
      headers: deliveryHeaders(options.secret, options.id, options.body, requestedAt.getTime()),
      body: options.body,
      dispatcher: agentFor(options.allowPrivate),
      signal: controller.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = await readStart(answer.body);
    const status = answer.statusCode;
    return {
      requestedAt,
      durationMs: Math.round(performance.now() - started),
      status,
      body,
      error: null,
      retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(answer.headers) : undefined,
    };
  } catch (error) {
    return {
      requestedAt,
      durationMs: Math.round(performance.now() - started),
      status: null,
      body: null,
      error: describe(error, timedOut, timeoutMs),
      retryAfterMs: undefined,
    };
  } finally {
    clearTimeout(timer);
  }
}
