/**
 * The pieces every simulated API shares: the request context, replies, and the contract
 * a wire family (OpenAI, Anthropic, Gemini, ImgGo) implements. The server (server.ts)
 * runs each request through auth → parse → quota → rate limits → faults → latency →
 * answer → reply, in that order, the way the real services do.
 */
import type { IncomingMessage } from 'node:http';
import type { Answerer } from './answers.js';
import type { FamilyLimits, LimitVerdict } from './limits.js';
import type { Rng } from './random.js';
import type { Api, RecordedRequest, SimCall, SimulatorOptions, SimulatorStats } from './types.js';

export interface Reply {
  status: number;
  /** Serialised as JSON. */
  body: unknown;
  /** Sent as is instead of `body` (file downloads, JSONL results); set the content-type in `headers`. */
  raw?: string;
  headers?: Record<string, string>;
  /** Output tokens billed by this reply (for stats). */
  outputTokens?: number;
}

/** Simulator-wide state the families may use. */
export interface Core {
  options: SimulatorOptions;
  stats: SimulatorStats;
  answerer: Answerer;
  random: Rng;
  limits: Record<Api, FamilyLimits>;
  timeScale: number;
  /** The simulator's own URL (ImgGo upload URLs point at it). */
  url: string;
  /** A latency draw, real ms. */
  latencyMs(): number;
  /** Timers and work to cancel on close. */
  signal: AbortSignal;
}

export interface Context {
  api: Api;
  route: string;
  req: IncomingMessage;
  url: URL;
  body: Buffer;
  /** The parsed JSON body; undefined when the body is not JSON. */
  json: unknown;
  /** Multipart fields, when the body was multipart/form-data. */
  form?: RecordedRequest['form'];
  apiKey: string | undefined;
  core: Core;
}

export interface Parsed {
  /** The model call to answer now (absent for ImgGo's asynchronous jobs and polls). */
  call?: SimCall;
  /** Input tokens the request costs (TPM and usage). */
  inputTokens: number;
  imageTokens: number;
  /** The success reply, given the answer (undefined when there was no call). */
  reply(answer: unknown): Reply | Promise<Reply>;
}

export type ErrorKind = 'bad-request' | 'not-found' | 'server' | 'overloaded' | 'quota';

export interface Family {
  api: Api;
  /** The route name when this family serves the request. */
  route(method: string, pathname: string): string | undefined;
  /** The key the request carries, however this API expects it. */
  apiKey(req: IncomingMessage, url: URL): string | undefined;
  /** The reply to a missing (`undefined`) or refused key. */
  unauthorized(key: string | undefined): Reply;
  error(kind: ErrorKind, message: string): Reply;
  /** The 429 of this API, with its headers and body. */
  rateLimited(verdict: LimitVerdict): Reply;
  /** Rate-limit headers for every answer. */
  rateHeaders(verdict: LimitVerdict): Record<string, string>;
  /** Validates the request (a 400 reply when it is wrong) and prices it. */
  parse(ctx: Context): Promise<Parsed | Reply>;
}

export function isReply(value: Parsed | Reply): value is Reply {
  return 'status' in value;
}

/** The first zod issue as "path: message", the way APIs name the offending field. */
export function describeIssue(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): {
  path: string;
  message: string;
} {
  const issue = error.issues[0];
  const path = (issue?.path ?? []).map(String).join('.');
  return { path, message: issue?.message ?? 'invalid request' };
}

/** Go-style durations as OpenAI writes them: `12ms`, `1s`, `6m0s`, `1m30.5s`. */
export function goDuration(ms: number): string {
  const rounded = Math.max(0, Math.ceil(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const seconds = rounded / 1000;
  const minutes = Math.floor(seconds / 60);
  const rest = Number((seconds - minutes * 60).toFixed(3));
  return minutes > 0 ? `${minutes}m${rest}s` : `${rest}s`;
}

/** Whole seconds for Retry-After (never 0 while a wait remains). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(ms > 0 ? 1 : 0, Math.ceil(ms / 1000)));
}
