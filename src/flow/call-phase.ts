/**
 * When a provider call is on the server, as the HTTP client sees it: from the request's
 * start to its answer's headers. A concurrency cap counts exactly that span; the flow's
 * slot otherwise spans admission to the parsed answer, which adds the request's
 * preparation and the body's reading and parsing, so the calls a capped server held
 * looked like more than the cap (bench: concurrency-cap cells at ~0.88 of the ceiling).
 *
 * undici publishes every request on Node's diagnostics channels (`undici:request:create`
 * when a request is made, `undici:request:headers` when its answer's headers arrived),
 * both for its own dispatchers (providers/http.ts) and for Node's `fetch`. A request is
 * created in the caller's async context, so the phase hooks set with `withCallPhase`
 * around a call are found there and tied to the request; its headers arrive on the
 * socket's context, and are matched by the request object.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics_channel from 'node:diagnostics_channel';

/** What the transport tells one call (a flow slot's `started` and `answered`). */
export interface CallPhaseHooks {
  /** The HTTP request was created (about to be written). */
  started(): void;
  /** The HTTP answer's status and headers arrived. */
  answered(status: number | undefined): void;
}

const current = new AsyncLocalStorage<CallPhaseHooks>();
const byRequest = new WeakMap<object, CallPhaseHooks>();
let subscribed = false;

function onCreate(message: unknown): void {
  const hooks = current.getStore();
  const request = (message as { request?: object }).request;
  if (hooks === undefined || request === undefined) return;
  byRequest.set(request, hooks);
  hooks.started();
}

function onHeaders(message: unknown): void {
  const { request, response } = message as { request?: object; response?: { statusCode?: number } };
  if (request === undefined) return;
  const hooks = byRequest.get(request);
  if (hooks === undefined) return;
  byRequest.delete(request);
  hooks.answered(response?.statusCode);
}

function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  diagnostics_channel.subscribe('undici:request:create', onCreate);
  diagnostics_channel.subscribe('undici:request:headers', onHeaders);
}

/** Runs `fn` with `hooks` told when each HTTP request it makes starts and is answered. */
export function withCallPhase<T>(hooks: CallPhaseHooks, fn: () => Promise<T>): Promise<T> {
  subscribe();
  return current.run(hooks, fn);
}
