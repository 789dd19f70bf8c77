/**
 * Fetches an image URL with hard limits: http/https only, a total timeout, a byte cap
 * enforced while streaming (the body is cut off, never buffered unbounded), at most
 * `maxRedirects` redirects each re-checked, and non-public addresses refused after
 * DNS resolution unless `allowPrivateNetworks` is set.
 */
import { isIP } from 'node:net';
import type { Agent, Dispatcher } from 'undici';
import { withArticle } from '../article.js';
import { sizeText } from '../config/sizes.js';
import { VisionpipeError } from '../errors.js';
import { undici } from '../on-first-use.js';
import { formatBytes } from '../report/units.js';
import { redactUrl as redactSecretsInUrl } from '../secrets.js';
import {
  type AddressPolicy,
  BlockedAddressError,
  checkAddress,
  guardedLookup,
  guardedLookupFor,
  parseNetworks,
  type Resolver,
  unbracket,
} from './address-policy.js';
import { DEFAULT_FETCH_LIMITS } from './input-limits.js';

export interface FetchLimits {
  /** Whole-request timeout, headers and body, in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Largest body accepted, in bytes. Default 50 MB. */
  maxBytes?: number;
  /** Redirects followed before giving up. Default 3. */
  maxRedirects?: number;
  /** Allow loopback, private and link-local addresses (tests, intranet images). Default false. */
  allowPrivateNetworks?: boolean;
  /** Ranges allowed beside public addresses (CIDR or single addresses), e.g. one intranet host. */
  allowNetworks?: readonly string[];
  /** Replaces DNS (address-policy.ts Resolver): every answer is still checked. */
  resolve?: Resolver;
  signal?: AbortSignal;
}

export interface FetchedBytes {
  bytes: Buffer;
  finalUrl: string;
  contentType: string | undefined;
}

export { DEFAULT_FETCH_LIMITS };

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

// One pooled keep-alive agent per policy, shared by every fetch in the process.
let publicAgent: Agent | undefined;
let privateAgent: Agent | undefined;
function agentFor(policy: AddressPolicy): { dispatcher: Dispatcher; own: boolean } {
  // A resolver or allowed ranges of its own: an agent for this fetch alone, closed after it.
  if (policy.resolve || (policy.allowNetworks?.length ?? 0) > 0)
    return {
      dispatcher: new (undici().Agent)({ connections: 4, connect: { lookup: guardedLookupFor(policy) } }),
      own: true,
    };
  return { dispatcher: sharedAgent(policy.allowPrivate ?? false), own: false };
}

function sharedAgent(allowPrivate: boolean): Dispatcher {
  if (allowPrivate) {
    privateAgent ??= new (undici().Agent)({ keepAliveTimeout: 10_000, connections: 32 });
    return privateAgent;
  }
  publicAgent ??= new (undici().Agent)({
    keepAliveTimeout: 10_000,
    connections: 32,
    connect: { lookup: guardedLookup },
  });
  return publicAgent;
}

/** Hides `user:password@` and secret query parameters so URLs can be shown and stored (secrets.ts). */
export const redactUrl = redactSecretsInUrl;

function checkUrl(raw: string, label: string, policy: AddressPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new VisionpipeError('INVALID_INPUT', `${label}: not a valid URL`, { input: label });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new VisionpipeError(
      'URL_BLOCKED',
      `${label}: only http and https URLs are fetched (got ${url.protocol})`,
      {
        input: label,
      },
    );
  }
  // IP literals never reach the DNS lookup hook, so they are checked here.
  const host = unbracket(url.hostname);
  if (isIP(host)) {
    const verdict = checkAddress(host, policy);
    if (!verdict.allowed) {
      throw new VisionpipeError(
        'URL_BLOCKED',
        `${label}: ${host} is ${withArticle(verdict.range)} address; pass allowPrivateNetworks (--allow-private-urls) to fetch it`,
        { input: label },
      );
    }
  }
  return url;
}

/**
 * The first error in `error`'s cause chain that matches, however deep a resolver or a
 * dispatcher wrapped it (a refusal stays URL_BLOCKED); a chain that loops back is walked once.
 */
function findCause(error: unknown, predicate: (e: unknown) => boolean): unknown {
  const seen = new Set<unknown>();
  for (let current = error; current && !seen.has(current); current = (current as { cause?: unknown }).cause) {
    seen.add(current);
    if (predicate(current)) return current;
  }
  return undefined;
}

function mapFetchError(error: unknown, label: string, timedOut: boolean, aborted: boolean): VisionpipeError {
  if (error instanceof VisionpipeError) return error;
  const blocked = findCause(error, (e) => e instanceof BlockedAddressError) as
    | BlockedAddressError
    | undefined;
  if (blocked) {
    return new VisionpipeError(
      'URL_BLOCKED',
      `${label}: ${blocked.message}; pass allowPrivateNetworks (--allow-private-urls) to fetch it`,
      { input: label, cause: error },
    );
  }
  // A caller's abort is not a failure of the host (and its DOMException has a numeric code).
  if (aborted) return new VisionpipeError('ABORTED', `${label}: aborted`, { input: label, cause: error });
  const raw = (error as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' ? raw : '';
  if (
    timedOut ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code.includes('TIMEOUT')
  ) {
    return new VisionpipeError('FETCH_TIMEOUT', `${label}: timed out`, { input: label, cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new VisionpipeError('FETCH_FAILED', `${label}: ${code ? `${code} ` : ''}${detail}`, {
    input: label,
    cause: error,
  });
}

async function readCapped(body: AsyncIterable<Uint8Array>, maxBytes: number, label: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      throw new VisionpipeError(
        'INPUT_TOO_LARGE',
        `${label}: body exceeds the ${sizeText(maxBytes)} input limit (cut off)`,
        {
          input: label,
        },
      );
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks, total);
}

export async function fetchUrlBytes(rawUrl: string, limits: FetchLimits = {}): Promise<FetchedBytes> {
  const timeoutMs = limits.timeoutMs ?? DEFAULT_FETCH_LIMITS.timeoutMs;
  const maxBytes = limits.maxBytes ?? DEFAULT_FETCH_LIMITS.maxBytes;
  const maxRedirects = limits.maxRedirects ?? DEFAULT_FETCH_LIMITS.maxRedirects;
  const policy: AddressPolicy = {
    allowPrivate: limits.allowPrivateNetworks ?? false,
    ...(limits.allowNetworks ? { allowNetworks: limits.allowNetworks } : {}),
    ...(limits.resolve ? { resolve: limits.resolve } : {}),
  };
  const label = redactUrl(rawUrl);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout;
  try {
    parseNetworks(policy.allowNetworks);
  } catch (error) {
    throw new VisionpipeError('INVALID_OPTION', `allowNetworks: ${(error as Error).message}`, {
      option: 'allowNetworks',
    });
  }
  const { dispatcher, own } = agentFor(policy);
  try {
    return await fetchWith(rawUrl, label, policy, dispatcher, signal, timeout, maxBytes, maxRedirects);
  } finally {
    if (own) await (dispatcher as Agent).close().catch(() => {});
  }
}

async function fetchWith(
  rawUrl: string,
  label: string,
  policy: AddressPolicy,
  dispatcher: Dispatcher,
  signal: AbortSignal,
  timeout: AbortSignal,
  maxBytes: number,
  maxRedirects: number,
): Promise<FetchedBytes> {
  let url = checkUrl(rawUrl, label, policy);
  try {
    for (let redirects = 0; ; redirects++) {
      const response = await undici().request(url, {
        dispatcher,
        method: 'GET',
        signal,
        headers: { accept: 'image/*,*/*;q=0.5', 'user-agent': 'visionpipe' },
      });
      const { statusCode, headers, body } = response;
      if (REDIRECT_STATUSES.has(statusCode)) {
        await body.dump();
        const location = headers.location;
        if (typeof location !== 'string') {
          throw new VisionpipeError(
            'FETCH_FAILED',
            `${label}: HTTP ${statusCode} without a Location header`,
            {
              input: label,
            },
          );
        }
        if (redirects >= maxRedirects) {
          throw new VisionpipeError('TOO_MANY_REDIRECTS', `${label}: more than ${maxRedirects} redirects`, {
            input: label,
          });
        }
        // Every hop is checked like the first: scheme, IP literal, and (at connect) its DNS answers.
        url = checkUrl(new URL(location, url).toString(), label, policy);
        continue;
      }
      if (statusCode < 200 || statusCode >= 300) {
        await body.dump();
        throw new VisionpipeError('FETCH_HTTP_ERROR', `${label}: HTTP ${statusCode}`, {
          input: label,
          retryable: statusCode === 408 || statusCode === 429 || statusCode >= 500,
        });
      }
      const declared = Number(headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        // destroy() makes the body emit an AbortError: listened to, or it would crash the process.
        body.on('error', () => {});
        body.destroy();
        throw new VisionpipeError(
          'INPUT_TOO_LARGE',
          `${label}: Content-Length ${formatBytes(declared)} exceeds the ${sizeText(maxBytes)} input limit`,
          { input: label },
        );
      }
      const bytes = await readCapped(body, maxBytes, label);
      const type = headers['content-type'];
      return { bytes, finalUrl: url.toString(), contentType: typeof type === 'string' ? type : undefined };
    }
  } catch (error) {
    throw mapFetchError(error, label, timeout.aborted, signal.aborted && !timeout.aborted);
  }
}
