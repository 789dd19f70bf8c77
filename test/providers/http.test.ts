import type { Socket } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { VisionpipeError } from '../../src/errors.js';
import { closeAllAgents, httpRequest, requestJson } from '../../src/providers/http.js';
import { httpStatusError, readErrorBody, regainAccessInMs } from '../../src/providers/http-errors.js';
import { redactSecrets } from '../../src/providers/secrets.js';
import { startServer, type TestServer } from '../support/http.js';

const servers: TestServer[] = [];

async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const server = await startServer(...args);
  servers.push(server);
  return server;
}

afterAll(async () => {
  await closeAllAgents();
  await Promise.all(servers.map((s) => s.close()));
});

async function failure(promise: Promise<unknown>): Promise<VisionpipeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VisionpipeError);
  return error as VisionpipeError;
}

const json = { hello: 'wörld', list: [1, 2, 3] };

describe('http client', () => {
  it('asks for compression and decodes gzip, br, deflate and raw deflate bodies', async () => {
    const encoders: Record<string, (b: Buffer) => Buffer> = {
      gzip: (b) => zlib.gzipSync(b),
      br: (b) => zlib.brotliCompressSync(b),
      deflate: (b) => zlib.deflateSync(b),
      'raw-deflate': (b) => zlib.deflateRawSync(b),
    };
    let accepted = '';
    const server = await serve((req, res) => {
      accepted = String(req.headers['accept-encoding']);
      const kind = req.url!.slice(1);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': kind === 'raw-deflate' ? 'deflate' : kind,
      });
      res.end(encoders[kind]!(Buffer.from(JSON.stringify(json))));
    });
    for (const kind of Object.keys(encoders)) {
      const response = await requestJson({ provider: 'test', url: `${server.url}/${kind}`, timeoutMs: 5000 });
      expect(response.body, kind).toEqual(json);
    }
    expect(accepted).toBe('gzip, deflate, br');
  });

  it('keeps connections alive: sequential requests reuse pooled sockets', async () => {
    const sockets = new Set<Socket>();
    const server = await serve((req, res) => {
      sockets.add(req.socket);
      // undici keeps a socket only when the server's keep-alive hint leaves a margin.
      res.writeHead(200, { 'content-type': 'application/json', 'keep-alive': 'timeout=10' });
      res.end('{}');
    });
    for (let i = 0; i < 10; i++)
      await requestJson({ provider: 'test', url: `${server.url}/x`, timeoutMs: 5000 });
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it('times out a server that never answers (PROVIDER_TIMEOUT) and honours the caller’s abort (ABORTED)', async () => {
    const server = await serve(() => {
      // never answers
    });
    const timeout = await failure(
      httpRequest({ provider: 'test', url: `${server.url}/slow`, timeoutMs: 150 }),
    );
    expect(timeout.code).toBe('PROVIDER_TIMEOUT');
    expect(timeout.retryable).toBe(true);
    expect(timeout.message).toMatch(/^test: no complete answer from http:\/\/127\.0\.0\.1:\d+ within 150 ms/);
    // A duration as a duration (as --timeout takes it), not a count of milliseconds.
    const longer = await failure(
      httpRequest({ provider: 'test', url: `${server.url}/slow`, timeoutMs: 1200 }),
    );
    expect(longer.message).toMatch(/within 1\.2 s \(/);
    const aborted = await failure(
      httpRequest({
        provider: 'test',
        url: `${server.url}/slow`,
        timeoutMs: 5000,
        signal: AbortSignal.timeout(100),
      }),
    );
    expect(aborted.code).toBe('ABORTED');
  });

  it('maps a refused or reset connection to CONNECTION_FAILED', async () => {
    const server = await serve((req) => req.socket.destroy());
    const reset = await failure(requestJson({ provider: 'test', url: `${server.url}/`, timeoutMs: 5000 }));
    expect(reset.code).toBe('CONNECTION_FAILED');
    expect(reset.retryable).toBe(true);
    const closed = await serve(() => {});
    await closed.close();
    const refused = await failure(requestJson({ provider: 'test', url: `${closed.url}/`, timeoutMs: 5000 }));
    expect(refused.code).toBe('CONNECTION_FAILED');
    expect(refused.message).toMatch(/ECONNREFUSED/);
  });

  it('a 2xx body that is not JSON is BAD_RESPONSE', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "chatcmpl-');
    });
    const error = await failure(requestJson({ provider: 'test', url: `${server.url}/`, timeoutMs: 5000 }));
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.message).toMatch(/^test: HTTP 200 with a body that is not JSON/);
  });
});

describe('status mapping', () => {
  const cases: Array<[number, unknown, string, boolean]> = [
    [
      401,
      { error: { message: 'Incorrect API key', type: 'invalid_request_error', code: 'invalid_api_key' } },
      'AUTH_FAILED',
      false,
    ],
    [403, { type: 'error', error: { type: 'permission_error', message: 'no access' } }, 'AUTH_FAILED', false],
    [400, { error: { message: 'bad field', type: 'invalid_request_error' } }, 'BAD_REQUEST', false],
    [404, { error: { message: 'no such model' } }, 'BAD_REQUEST', false],
    // A refusal for size is deterministic and names what was too large (issue 11 §6).
    [
      413,
      { type: 'error', error: { type: 'request_too_large', message: 'too big' } },
      'IMAGE_TOO_LARGE',
      false,
    ],
    [
      400,
      {
        error: {
          message: 'Invalid image: over the maximum of 20000000 bytes per image.',
          type: 'invalid_request_error',
          param: 'messages',
          code: 'image_too_large',
        },
      },
      'IMAGE_TOO_LARGE',
      false,
    ],
    [
      400,
      {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message:
            'messages.0.content.0.image.source.base64: image exceeds 5 MB maximum: 6500712 bytes > 5242880 bytes',
        },
      },
      'IMAGE_TOO_LARGE',
      false,
    ],
    [422, { success: false, error: { code: 'low_image_quality', message: 'blurry' } }, 'BAD_REQUEST', false],
    [
      429,
      { error: { message: 'slow down', type: 'requests', code: 'rate_limit_exceeded' } },
      'RATE_LIMITED',
      true,
    ],
    [
      429,
      {
        error: {
          message: 'You exceeded your current quota',
          type: 'insufficient_quota',
          code: 'insufficient_quota',
        },
      },
      'QUOTA_EXCEEDED',
      false,
    ],
    [
      429,
      {
        error: {
          message: 'spend limit',
          type: 'invalid_request_error',
          code: 'enforced_spend_limit_reached',
        },
      },
      'QUOTA_EXCEEDED',
      false,
    ],
    [
      400,
      {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: 'Your credit balance is too low to access the Anthropic API.',
        },
      },
      'QUOTA_EXCEEDED',
      false,
    ],
    [
      400,
      {
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message:
            'You have reached your specified API usage limits. You will regain access on 2099-01-01 at 00:00 UTC.',
        },
      },
      'QUOTA_EXCEEDED',
      false,
    ],
    [
      429,
      { error: { type: 'rate_limit_error', message: 'You have hit your monthly usage limit.' } },
      'QUOTA_EXCEEDED',
      false,
    ],
    [
      403,
      { success: false, error: { code: 'rate_limit_exceeded', message: 'Rate limit exceeded' } },
      'RATE_LIMITED',
      true,
    ],
    [
      400,
      {
        error: {
          code: 400,
          message: 'API key not valid.',
          status: 'INVALID_ARGUMENT',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
        },
      },
      'AUTH_FAILED',
      false,
    ],
    [408, 'timeout', 'PROVIDER_UNAVAILABLE', true],
    [409, 'conflict', 'PROVIDER_UNAVAILABLE', true],
    [
      500,
      { error: { message: 'The server had an error', type: 'server_error' } },
      'PROVIDER_UNAVAILABLE',
      true,
    ],
    [502, '<html>Bad Gateway</html>', 'PROVIDER_UNAVAILABLE', true],
    [
      503,
      { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } },
      'PROVIDER_UNAVAILABLE',
      true,
    ],
    [504, '', 'PROVIDER_UNAVAILABLE', true],
    [
      529,
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      'PROVIDER_UNAVAILABLE',
      true,
    ],
  ];

  it.each(cases)('HTTP %i %j → %s', (status, body, code, retryable) => {
    const error = httpStatusError('openai', status, {}, body);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.status).toBe(status);
    expect(error.message.startsWith(`openai: HTTP ${status}`)).toBe(true);
  });

  it('puts the provider’s own words in the message', () => {
    const error = httpStatusError(
      'anthropic',
      529,
      {},
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    );
    expect(error.message).toBe('anthropic: HTTP 529 overloaded_error: Overloaded');
  });

  // Trial of issue 10: nginx's limit_req page was the whole record message ("HTTP 503: <html>…").
  it('says an HTML error page in its title’s words, as a proxy’s answer, not the page', () => {
    const page =
      '<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n';
    expect(httpStatusError('openai', 503, {}, page).message).toBe(
      'openai: HTTP 503: 503 Service Temporarily Unavailable (an HTML page: a proxy or gateway in front of the API answered)',
    );
    expect(
      httpStatusError('openai', 502, {}, '<!DOCTYPE html><body><h1>Bad  Gateway</h1></body>').message,
    ).toContain(': Bad Gateway (an HTML page');
    // Plain text is the server's own words.
    expect(httpStatusError('openai', 503, {}, 'upstream connect error').message).toBe(
      'openai: HTTP 503: upstream connect error',
    );
  });

  it('takes retryAfterMs from retry-after-ms, Retry-After seconds, an HTTP date, or Gemini’s RetryInfo', () => {
    expect(
      httpStatusError('openai', 429, { 'retry-after-ms': '1234', 'retry-after': '2' }, {}).retryAfterMs,
    ).toBe(1234);
    expect(httpStatusError('anthropic', 429, { 'retry-after': '7' }, {}).retryAfterMs).toBe(7000);
    const date = new Date(Date.now() + 30_000).toUTCString();
    const fromDate = httpStatusError('imggo', 503, { 'retry-after': date }, {}).retryAfterMs;
    expect(fromDate).toBeGreaterThan(28_000);
    expect(fromDate).toBeLessThanOrEqual(30_000);
    const gemini = {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'quota',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '13.5s' }],
      },
    };
    expect(httpStatusError('gemini', 429, {}, gemini).retryAfterMs).toBe(13_500);
    expect(httpStatusError('openai', 429, {}, {}).retryAfterMs).toBeUndefined();
  });

  it('treats a Gemini per-day quota as QUOTA_EXCEEDED and a per-minute one as RATE_LIMITED', () => {
    const body = (quotaId: string) => ({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'You exceeded your current quota',
        details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId }] }],
      },
    });
    expect(httpStatusError('gemini', 429, {}, body('GenerateRequestsPerDayPerProjectPerModel')).code).toBe(
      'QUOTA_EXCEEDED',
    );
    expect(httpStatusError('gemini', 429, {}, body('GenerateRequestsPerMinutePerProjectPerModel')).code).toBe(
      'RATE_LIMITED',
    );
  });

  it("reads when access comes back from Anthropic's usage-limit words, as ms from now", () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const said =
      'You have reached your specified API usage limits. You will regain access on 2027-01-01 at 00:00 UTC.';
    expect(regainAccessInMs(said, now)).toBe(Date.parse('2027-01-01T00:00:00Z') - now);
    expect(regainAccessInMs('You will regain access on 2026-12-03.', now)).toBe(36 * 3_600_000);
    // A date gone by, or none: no reset named.
    expect(regainAccessInMs('You will regain access on 2026-11-30 at 00:00 UTC.', now)).toBeUndefined();
    expect(regainAccessInMs('Rate limit reached', now)).toBeUndefined();
  });

  it('reads the error bodies of every provider into one shape', () => {
    expect(readErrorBody({ error: { message: 'm', type: 't', code: 'c' } })).toEqual({
      message: 'm',
      type: 't',
      code: 'c',
    });
    expect(readErrorBody({ type: 'error', error: { type: 'rate_limit_error', message: 'm' } })).toEqual({
      message: 'm',
      type: 'rate_limit_error',
    });
    expect(readErrorBody('plain text')).toEqual({ message: 'plain text' });
    expect(readErrorBody(null)).toEqual({});
  });
});

describe('secrets in messages', () => {
  it('removes the key and anything shaped like a key', () => {
    const key = 'sk-proj-abcdefghijklmnop1234';
    expect(redactSecrets(`Incorrect API key provided: ${key}.`, [key])).toBe(
      'Incorrect API key provided: [redacted].',
    );
    expect(redactSecrets('Incorrect API key provided: sk-pr****************1234.')).toBe(
      'Incorrect API key provided: [redacted].',
    );
    expect(redactSecrets('Authorization: Bearer abc.def.ghi')).toBe('Authorization: [redacted]');
    expect(redactSecrets('GET /v1beta/models?key=AIzaSyD-123456789012345')).toBe(
      'GET /v1beta/models?key=[redacted]',
    );
    expect(redactSecrets('key imggo_live_abc123xyz789 refused')).toBe('key [redacted] refused');
    expect(redactSecrets('plain words stay', ['x'])).toBe('plain words stay');
  });

  it('a server that echoes the whole key back never gets it into the error', async () => {
    const key = 'VISIONPIPE-TEST-SECRET-0123456789';
    const server = await serve((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `Invalid key: ${req.headers.authorization}` } }));
    });
    const error = await failure(
      requestJson({
        provider: 'test',
        url: `${server.url}/`,
        headers: { authorization: `Bearer ${key}` },
        timeoutMs: 5000,
        secrets: [key],
      }),
    );
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toBe('test: HTTP 401: Invalid key: [redacted]');
  });
});
