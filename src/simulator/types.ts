/**
 * The provider simulator's public types: options, the calls it answers, its stats and
 * the requests it recorded. Plain types only, so the simulator can move under src/
 * (for `visionpipe simulate`) without test-only imports.
 */

import type { IncomingHttpHeaders } from 'node:http';
import type { RequestLogEntry } from './request-log.js';
import type { Gate, ZooOptions } from './zoo.js';

export type Api = 'openai' | 'anthropic' | 'gemini' | 'imggo';

/**
 * Faults the simulator can inject. `reset`, `5xx`, `529`, `slow-body` and `malformed`
 * are drawn at the configured rates; every kind can be forced with `inject()`.
 * `529` is Anthropic's overloaded_error (503 "overloaded" for the other APIs).
 */
export type FaultKind =
  | 'reset'
  | '5xx'
  | '529'
  | 'slow-body'
  | 'malformed'
  | 'rate-limit'
  | 'quota'
  | 'bad-request';

export interface FaultRates {
  rate5xx: number;
  rate529: number;
  rateReset: number;
  rateSlowBody: number;
  rateMalformed: number;
}

export interface SimImage {
  data: Buffer;
  width: number;
  height: number;
  /** sharp's format name: jpeg, png, webp… */
  format: string;
}

/** One model call as the simulator understood it from the wire. */
export interface SimCall {
  api: Api;
  kind: 'extract' | 'ask';
  model: string;
  image: SimImage;
  /** Further images of the same request (the pages of a document after the first), in order. */
  pages?: SimImage[];
  /** The http(s) URL the image was fetched from (OpenAI `image_url`, ImgGo `image_url`). */
  imageUrl?: string;
  /** The requested output's JSON Schema (Gemini's responseSchema converted back). */
  schema?: Record<string, unknown>;
  /** All text of the request (system, user turn, question). */
  prompt: string;
  /** ImgGo: the pattern the image was ingested into. */
  patternId?: string;
  /** OpenAI: the image `detail` requested (low, high, auto). */
  detail?: string;
}

/**
 * How answers are made: `local` runs the repository's OCR engine on the received pixels
 * (resolution really changes accuracy; ~1 s per image), `empty` returns the schema's
 * empty output, a function returns anything (for `ask`: a boolean or a text). A
 * function that throws gives a 500 (an ImgGo job: `failed` with its message).
 */
export type AnswerFn = (call: SimCall) => unknown | Promise<unknown>;

/** One model call's fate at the rate limiter: for benchmarks that measure pacing. */
export interface AdmissionEvent {
  /** Date.now() when the call reached the limiter. */
  at: number;
  api: Api;
  admitted: boolean;
}

/** A model call answered successfully (what a provider bills). */
export interface BilledEvent {
  at: number;
  api: Api;
  /** sha256 of the image bytes received. */
  sha256: string;
  /** Billed as one request of a batch (OpenAI Batch API, Anthropic Message Batches). */
  batch?: boolean;
}

/**
 * How one request inside a batch fails: `bad-request` (the API's 400 for that line),
 * `server` (a 500 for that line), `expired` (the batch's window ends here: this request
 * and every later one expire, and so does the batch).
 */
export type BatchLineFailure = 'bad-request' | 'server' | 'expired';

export interface SimulatorOptions {
  /** Port on 127.0.0.1 (default: a free one). The simulator never listens beyond loopback. */
  port?: number;
  /** Called for every model call that reaches the rate limiter, admitted or not. */
  onAdmission?: (event: AdmissionEvent) => void;
  /** Called for every model call answered 200 (billed), after the response was handed to the socket. */
  onBilled?: (event: BilledEvent) => void;
  /** Uniform latency of each model call, ms before `timeScale` (default 0–5). */
  latency?: { minMs: number; maxMs: number };
  /**
   * Real ms per simulated ms: 0.01 runs a 60 s rate-limit window in 600 ms. Scales
   * latencies, rate-limit windows and the resets and waits the headers report.
   */
  timeScale?: number;
  /** Requests per (simulated) minute, per API family. */
  rpm?: number;
  /**
   * A limiter from the zoo (zoo.ts) in front of every model call, for all API families
   * together, instead of `rpm`/`tpm`: token bucket, fixed window, sliding log,
   * concurrency caps, servers whose headers are missing or lie, and so on.
   */
  limiter?: ZooOptions;
  /** Input tokens per (simulated) minute, per API family. */
  tpm?: number;
  faults?: Partial<FaultRates>;
  /** PRNG seed for latencies and faults (default 1). */
  seed?: number;
  answer?: 'local' | 'empty' | AnswerFn;
  /** Keys accepted; any non-empty key when unset. */
  apiKeys?: string[];
  /**
   * An OpenAI-compatible server's byte limits, smaller than OpenAI's own (20 MB per image,
   * 50 MB per request, the defaults): past them the OpenAI API answers its 400.
   */
  openaiLimits?: { maxImageBytes?: number; maxRequestBytes?: number };
  /** OpenAI, Anthropic and Gemini answer every call as out of quota / credit. */
  quotaExceeded?: boolean;
  /** Response compression when the client accepts it (default gzip). */
  compress?: 'gzip' | 'br' | 'deflate' | false;
  /** How long a `slow-body` response stalls after its first half, real ms (default 10 000). */
  slowBodyMs?: number;
  /** Called once per HTTP request, after its answer was sent or the connection closed (`simulate --log`). */
  onRequest?: (entry: RequestLogEntry) => void;
  /** ImgGo patterns by id (for `local`/`empty` answers); any id is accepted when unset. */
  imggoPatterns?: Record<string, { schema?: object; instructions?: string }>;
  /** OCR workers of the local engine (default 2). */
  localWorkers?: number;
  /**
   * Requests inside batches to fail: a share (0–1, seeded; `bad-request`), or a function
   * of the request's `custom_id` returning how it fails (or nothing).
   */
  batchFailures?: number | ((customId: string) => BatchLineFailure | false | undefined);
}

export interface SimulatorStats {
  /** Requests per route, e.g. `openai POST /v1/chat/completions`. */
  requests: Record<string, number>;
  total: number;
  /** 429 answers (rate limits and quota). */
  rateLimited: number;
  faults: Record<FaultKind, number>;
  /** Distinct ImgGo jobs created (idempotent replays excluded). */
  jobsCreated: number;
  /** Tokens billed by the real formulas. */
  tokens: { input: number; output: number; image: number };
  /** Responses sent compressed. */
  compressed: number;
  /** Batches created (OpenAI Batch API and Anthropic Message Batches). */
  batchesCreated: number;
  /** Requests inside the batches created. */
  batchRequests: number;
  /** Tokens billed for requests inside batches (at the batch price; not in `tokens`). */
  batchTokens: { input: number; output: number; image: number };
}

export interface RecordedRequest {
  api: Api;
  route: string;
  method: string;
  /** Path and query. */
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The parsed JSON body, when it was JSON. */
  json?: unknown;
  /** Multipart fields, files as `{filename, type, size}` with their bytes. */
  form?: Record<string, string | { filename: string; type: string; size: number; data: Buffer }>;
}

export interface Simulator {
  url: string;
  port: number;
  /** Base URLs to give each provider. */
  baseUrls: Record<Api, string>;
  stats: SimulatorStats;
  /** Every request received, oldest first (the last 1000). */
  requests: RecordedRequest[];
  /** The zoo limiter in front of model calls, when `limiter` was given. */
  gate: Gate | undefined;
  /** Forces `kind` on the next `count` requests (any API), ahead of the random faults. */
  inject(kind: FaultKind, count?: number): void;
  close(): Promise<void>;
}
