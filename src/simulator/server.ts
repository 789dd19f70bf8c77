/**
 * The provider simulator: a real HTTP server on 127.0.0.1 that speaks the OpenAI,
 * Anthropic, Gemini and ImgGo wire formats, with latency, rate limits that answer real
 * 429s with the real headers, injected faults (5xx, 529, resets, slow bodies, malformed
 * JSON) and token accounting by the published formulas. Tests and benchmarks run
 * against it; it never replaces testing the real wire formats.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { redactSecrets } from '../secrets.js';
import { Answerer } from './answers.js';
import { anthropicFamily } from './anthropic.js';
import { createAnthropicBatchFamily } from './anthropic-batches.js';
import { type Context, type Core, type Family, isReply, type Reply } from './core.js';
import { FaultPlan } from './faults.js';
import { geminiFamily } from './gemini.js';
import { createImggoFamily } from './imggo.js';
import { admit, type FamilyLimits, type LimitVerdict, SlidingWindow } from './limits.js';
import { openaiFamily } from './openai.js';
import { createOpenAIBatchFamily } from './openai-batches.js';
import { Rng } from './random.js';
import { loggedError, loggedHeaders, type RequestLogEntry } from './request-log.js';
import type {
  Api,
  FaultKind,
  RecordedRequest,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
} from './types.js';
import { createGate, type Refusal } from './zoo.js';

const MINUTE_MS = 60_000;
const MAX_RECORDED = 1000;

function emptyStats(): SimulatorStats {
  return {
    requests: {},
    total: 0,
    rateLimited: 0,
    faults: {
      reset: 0,
      '5xx': 0,
      '529': 0,
      'slow-body': 0,
      malformed: 0,
      'rate-limit': 0,
      quota: 0,
      'bad-request': 0,
    },
    jobsCreated: 0,
    tokens: { input: 0, output: 0, image: 0 },
    compressed: 0,
    batchesCreated: 0,
    batchRequests: 0,
    batchTokens: { input: 0, output: 0, image: 0 },
  };
}

function limitsFor(options: SimulatorOptions, windowMs: number): FamilyLimits {
  return {
    ...(options.rpm === undefined ? {} : { requests: new SlidingWindow(options.rpm, windowMs) }),
    ...(options.tpm === undefined ? {} : { tokens: new SlidingWindow(options.tpm, windowMs) }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseForm(body: Buffer, contentType: string): Promise<RecordedRequest['form']> {
  try {
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    const out: NonNullable<RecordedRequest['form']> = {};
    for (const [name, value] of form.entries()) {
      out[name] =
        typeof value === 'string'
          ? value
          : {
              filename: value.name,
              type: value.type,
              size: value.size,
              data: Buffer.from(await value.arrayBuffer()),
            };
    }
    return out;
  } catch {
    return undefined;
  }
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A zoo gate's refusal in the shape its model answers: a rate refusal is the family's own
 * 429 with the gate's headers only (and RetryInfo in the body when asked); `overloaded` is
 * Anthropic's 529 and `busy` Ollama's 503, whatever the wire format.
 */
function refusalReply(family: Family, refusal: Refusal): Reply {
  if (refusal.kind === 'overloaded')
    return {
      status: 529,
      body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      headers: refusal.headers,
    };
  if (refusal.kind === 'busy')
    return {
      status: 503,
      body: { error: 'server busy, please try again.  maximum pending requests exceeded' },
      headers: refusal.headers,
    };
  const reply = family.rateLimited({ limited: 'requests', retryAfterMs: refusal.retryAfterMs });
  const body = reply.body as { error?: Record<string, unknown> };
  if (refusal.retryDelayMs !== undefined && body.error) {
    body.error.details = [
      {
        '@type': 'type.googleapis.com/google.rpc.RetryInfo',
        retryDelay: `${(refusal.retryDelayMs / 1000).toFixed(3)}s`,
      },
    ];
  }
  return { ...reply, headers: refusal.headers };
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be positive (got ${timeScale})`);
  const latency = options.latency ?? { minMs: 0, maxMs: 5 };
  if (!(latency.minMs >= 0 && latency.maxMs >= latency.minMs))
    throw new RangeError(`latency must have 0 ≤ minMs ≤ maxMs (got ${latency.minMs}–${latency.maxMs})`);
  const random = new Rng(options.seed ?? 1);
  const faults = new FaultPlan(options.faults ?? {}, random);
  const stats = emptyStats();
  const requests: RecordedRequest[] = [];
  const closing = new AbortController();
  // Every in-flight call waits on this one signal: hundreds of listeners are expected.
  setMaxListeners(0, closing.signal);
  const windowMs = MINUTE_MS * timeScale;
  const gate = options.limiter === undefined ? undefined : createGate(options.limiter);
  const compression = options.compress ?? 'gzip';

  const core: Core = {
    options,
    stats,
    answerer: new Answerer(options.answer ?? 'empty', options.localWorkers ?? 2),
    random,
    limits: {
      openai: limitsFor(options, windowMs),
      anthropic: limitsFor(options, windowMs),
      gemini: limitsFor(options, windowMs),
      imggo: limitsFor(options, windowMs),
    },
    timeScale,
    url: '',
    latencyMs: () => random.range(latency.minMs, latency.maxMs) * timeScale,
    signal: closing.signal,
  };
  const imggo = createImggoFamily(core);
  const families: Family[] = [
    openaiFamily,
    anthropicFamily,
    geminiFamily,
    imggo,
    createOpenAIBatchFamily(core),
    createAnthropicBatchFamily(core),
  ];

  /** Error bodies sent and request body sizes, for the request log. */
  const errorBodies = new WeakMap<ServerResponse, string>();
  const bodySizes = new WeakMap<IncomingMessage, number>();

  function logExchange(
    req: IncomingMessage,
    res: ServerResponse,
    log: (entry: RequestLogEntry) => void,
  ): void {
    const arrived = Date.now();
    const started = performance.now();
    res.once('close', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = req.method ?? 'GET';
      const route = families
        .find((f) => f.route(method, url.pathname) !== undefined)
        ?.route(method, url.pathname);
      const error = errorBodies.get(res);
      log({
        time: new Date(arrived).toISOString(),
        method,
        path: redactSecrets(`${url.pathname}${url.search}`),
        route: route ?? null,
        request: {
          headers: loggedHeaders(req.headers),
          content_type: req.headers['content-type'] ?? null,
          bytes: bodySizes.get(req) ?? 0,
        },
        response: {
          status: res.headersSent ? res.statusCode : 0,
          bytes: Number(res.getHeader('content-length') ?? 0),
          ...(error === undefined ? {} : { error: loggedError(error) }),
        },
        duration_ms: Math.round(performance.now() - started),
      });
    });
  }

  function send(
    req: IncomingMessage,
    res: ServerResponse,
    reply: Reply,
    extraHeaders: Record<string, string> = {},
    mode?: FaultKind,
  ): void {
    const text = reply.raw ?? JSON.stringify(reply.body);
    if (reply.status >= 400) errorBodies.set(res, text);
    let payload = Buffer.from(
      mode === 'malformed' ? text.slice(0, Math.max(1, Math.floor(text.length / 2))) : text,
    );
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...extraHeaders,
      ...reply.headers,
    };
    const accepted = String(req.headers['accept-encoding'] ?? '')
      .split(',')
      .map((c) => c.trim().split(';')[0]);
    if (compression && accepted.includes(compression)) {
      payload =
        compression === 'gzip'
          ? zlib.gzipSync(payload)
          : compression === 'br'
            ? zlib.brotliCompressSync(payload)
            : zlib.deflateSync(payload);
      headers['content-encoding'] = compression;
      stats.compressed++;
    }
    headers['content-length'] = String(payload.length);
    res.writeHead(reply.status, headers);
    if (mode !== 'slow-body') {
      res.end(payload);
      return;
    }
    // Headers and half the body now, the rest much later: clients must time the body too.
    const half = Math.max(1, Math.floor(payload.length / 2));
    res.write(payload.subarray(0, half));
    const timer = setTimeout(() => res.end(payload.subarray(half)), options.slowBodyMs ?? 10_000);
    res.on('close', () => clearTimeout(timer));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', core.url);
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    bodySizes.set(req, body.length);
    const upload = method === 'GET' ? /^\/api\/uploads\/([^/]+)$/.exec(url.pathname) : null;
    if (upload) {
      const data = imggo.upload(upload[1]!);
      res.writeHead(data ? 200 : 404, { 'content-type': 'application/octet-stream' });
      res.end(data ?? '');
      return;
    }
    const family = families.find((f) => f.route(method, url.pathname) !== undefined);
    if (family === undefined) {
      send(req, res, {
        status: 404,
        body: { error: { message: `no simulated API at ${method} ${url.pathname}` } },
      });
      return;
    }
    const api: Api = family.api;
    const route = family.route(method, url.pathname)!;
    stats.total++;
    stats.requests[route] = (stats.requests[route] ?? 0) + 1;
    const contentType = String(req.headers['content-type'] ?? '');
    const form = contentType.startsWith('multipart/form-data')
      ? await parseForm(body, contentType)
      : undefined;
    const json = form === undefined ? parseJson(body) : undefined;
    const recorded: RecordedRequest = {
      api,
      route,
      method,
      path: `${url.pathname}${url.search}`,
      headers: req.headers,
      body,
      ...(json === undefined ? {} : { json }),
      ...(form === undefined ? {} : { form }),
    };
    requests.push(recorded);
    if (requests.length > MAX_RECORDED) requests.shift();

    const apiKey = family.apiKey(req, url);
    if (apiKey === undefined || (options.apiKeys !== undefined && !options.apiKeys.includes(apiKey))) {
      send(req, res, family.unauthorized(apiKey));
      return;
    }
    const ctx: Context = {
      api,
      route,
      req,
      url,
      body,
      json,
      apiKey,
      core,
      ...(form === undefined ? {} : { form }),
    };
    const parsed = await family.parse(ctx);
    if (isReply(parsed)) {
      send(req, res, parsed);
      return;
    }
    const fault = faults.next();
    if (fault === 'bad-request') {
      stats.faults['bad-request']++;
      send(req, res, family.error('bad-request', 'Simulated invalid request.'));
      return;
    }
    if (fault === 'quota' || (options.quotaExceeded && api !== 'imggo')) {
      if (fault === 'quota') stats.faults.quota++;
      const reply = family.error('quota', '');
      if (reply.status === 429) stats.rateLimited++;
      send(req, res, reply);
      return;
    }
    let rateHeaders: Record<string, string>;
    if (gate !== undefined && parsed.call) {
      const entry = gate.enter(Date.now());
      options.onAdmission?.({ at: Date.now(), api, admitted: entry.admitted });
      if (!entry.admitted) {
        if (entry.kind === 'rate') stats.rateLimited++;
        send(req, res, refusalReply(family, entry));
        return;
      }
      res.once('close', entry.leave);
      rateHeaders = entry.headers;
      if (entry.ready) await entry.ready;
    } else {
      let verdict: LimitVerdict = admit(core.limits[api], parsed.inputTokens, Date.now());
      if (fault === 'rate-limit' && verdict.limited === undefined) {
        stats.faults['rate-limit']++;
        verdict = { ...verdict, limited: 'requests', retryAfterMs: 1000 * timeScale };
      }
      options.onAdmission?.({ at: Date.now(), api, admitted: verdict.limited === undefined });
      rateHeaders = family.rateHeaders(verdict);
      if (verdict.limited !== undefined) {
        stats.rateLimited++;
        send(req, res, family.rateLimited(verdict), rateHeaders);
        return;
      }
    }
    if (fault === 'reset') {
      stats.faults.reset++;
      req.socket.destroy();
      return;
    }
    if (fault === '5xx' || fault === '529') {
      stats.faults[fault]++;
      send(req, res, family.error(fault === '5xx' ? 'server' : 'overloaded', ''), rateHeaders);
      return;
    }
    let answer: unknown;
    if (parsed.call) {
      await sleep(core.latencyMs(), undefined, { signal: closing.signal });
      try {
        answer = await core.answerer.answer(parsed.call, closing.signal);
      } catch {
        send(req, res, family.error('server', ''), rateHeaders);
        return;
      }
    }
    const reply = await parsed.reply(answer);
    if (parsed.call) {
      stats.tokens.input += parsed.inputTokens;
      stats.tokens.image += parsed.imageTokens;
      stats.tokens.output += reply.outputTokens ?? 0;
    }
    if (fault === 'slow-body' || fault === 'malformed') stats.faults[fault]++;
    send(req, res, reply, rateHeaders, fault);
    if (parsed.call && reply.status === 200 && fault !== 'malformed' && options.onBilled) {
      options.onBilled({
        at: Date.now(),
        api,
        sha256: createHash('sha256').update(parsed.call.image.data).digest('hex'),
      });
    }
  }

  const server = http.createServer((req, res) => {
    if (options.onRequest) logExchange(req, res, options.onRequest);
    handle(req, res).catch(() => {
      // A simulator bug or a closed socket: answer 500 if still possible, never print.
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"simulator failure"}}');
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  core.url = url;

  return {
    url,
    port,
    baseUrls: { openai: `${url}/v1`, anthropic: url, gemini: `${url}/v1beta`, imggo: `${url}/api` },
    stats,
    requests,
    gate,
    inject(kind, count = 1) {
      faults.inject(kind, count);
    },
    async close() {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await core.answerer.close();
    },
  };
}
