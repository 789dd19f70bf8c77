/**
 * A concurrency cap counts a call from its request's arrival until its answer is written;
 * the flow frees a success's slot at the answer's headers when the transport
 * reports them (flow/call-phase.ts, undici's diagnostics channels), not until the body is
 * read and parsed (issue 10). A real loopback server sends the headers, then holds the
 * body until the test lets it go: meanwhile the call's slot is already free.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveFlow } from '../../src/flow/adaptive.js';
import { withCallPhase } from '../../src/flow/call-phase.js';
import { callWithPolicy } from '../../src/flow/call-policy.js';
import { closeAllAgents, httpRequest } from '../../src/providers/http.js';
import { startServer, type TestServer } from '../support/http.js';

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await closeAllAgents();
});

/** Headers at once, the body when `release()` is called; `events` in the order they happened. */
async function slowBody(events: string[]) {
  const held: ServerResponse[] = [];
  const server = await startServer((req, res) => {
    req.resume();
    req.on('end', () => {
      events.push('server: request');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      held.push(res);
    });
  });
  servers.push(server);
  return {
    url: server.url,
    held: () => held.length,
    release: () => {
      for (const res of held.splice(0)) res.end('{"ok":true}');
    },
  };
}

const request = (url: string) =>
  httpRequest({ provider: 'test', url, method: 'POST', body: '{}', timeoutMs: 30_000 });

describe('call phase: from request start to answer headers', () => {
  it('an undici request reports its start before the server has it and its headers before the body', async () => {
    const events: string[] = [];
    const server = await slowBody(events);
    const hooks = { started: () => events.push('started'), answered: () => events.push('answered') };
    const call = withCallPhase(hooks, async () => {
      const response = await request(server.url);
      events.push('body');
      return response;
    });
    await vi.waitFor(() => expect(events).toContain('answered'), { timeout: 20_000, interval: 10 });
    expect(events).toEqual(['started', 'server: request', 'answered']);
    server.release();
    expect((await call).status).toBe(200);
    expect(events).toEqual(['started', 'server: request', 'answered', 'body']);
  });

  it("Node's fetch reports the same phases", async () => {
    const events: string[] = [];
    const server = await slowBody(events);
    const hooks = { started: () => events.push('started'), answered: () => events.push('answered') };
    const call = withCallPhase(hooks, async () => {
      const response = await fetch(server.url, { method: 'POST', body: '{}' });
      const text = await response.text();
      events.push('body');
      return text;
    });
    await vi.waitFor(() => expect(events).toContain('answered'), { timeout: 20_000, interval: 10 });
    server.release();
    expect(await call).toBe('{"ok":true}');
    expect(events).toEqual(['started', 'server: request', 'answered', 'body']);
  });

  it('requests outside a call report to no one', async () => {
    const events: string[] = [];
    const server = await slowBody(events);
    const hooks = { started: () => events.push('started'), answered: () => events.push('answered') };
    await withCallPhase(hooks, async () => {});
    const call = request(server.url);
    await vi.waitFor(() => expect(server.held()).toBe(1), { timeout: 20_000, interval: 10 });
    server.release();
    await call;
    expect(events).toEqual(['server: request']);
  });

  it('a success frees its slot at the headers; a refusal holds it until the flow knows what it was', async () => {
    const flow = new AdaptiveFlow({ maxConcurrency: 1, now: () => 0 });
    const order: string[] = [];
    const ok = await flow.admit();
    ok.started();
    ok.answered(200);
    order.push(`200 answered: ${flow.state.inFlight} in flight`);
    ok.done({ kind: 'ok' });
    const refused = await flow.admit();
    refused.started();
    refused.answered(429);
    order.push(`429 answered: ${flow.state.inFlight} in flight`);
    refused.done({ kind: 'throttled' });
    order.push(`429 done: ${flow.state.inFlight} in flight, ${flow.state.throttles} throttle`);
    flow.close();
    expect(order).toEqual([
      '200 answered: 0 in flight',
      '429 answered: 1 in flight',
      '429 done: 0 in flight, 1 throttle',
    ]);
  });

  it("a provider call's flow slot is free once the headers are in, while its body is still read", async () => {
    const events: string[] = [];
    const server = await slowBody(events);
    const flow = new AdaptiveFlow({ maxConcurrency: 4 });
    const calls = [0, 1, 2].map(() => callWithPolicy(() => request(server.url), { flow }));
    await vi.waitFor(() => expect(server.held()).toBe(3), { timeout: 20_000, interval: 10 });
    // All three answers' headers arrived; their bodies are held: nothing is on the server.
    await vi.waitFor(() => expect(flow.state.inFlight).toBe(0), { timeout: 20_000, interval: 10 });
    server.release();
    const results = await Promise.all(calls);
    expect(results.map((r) => r.value.status)).toEqual([200, 200, 200]);
    expect(flow.state.inFlight).toBe(0);
    flow.close();
  });
});
