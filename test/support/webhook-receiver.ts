/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 (free port) that keeps
 * every request it gets (headers, raw body, arrival time) and answers as the test's
 * `respond` says: a status with headers, or `hang` (never answer: the sender's timeout).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
  json: {
    type: string;
    event: string;
    timestamp: string;
    data: Record<string, unknown> & { job_id: string };
  };
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  /** Decides each answer; `n` is the 1-based count of requests so far. */
  respond: (request: Received, n: number) => Reply;
  /** Resolves once `predicate` holds over what was received (polls every 20 ms). */
  until(predicate: (received: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(
  respond: Receiver['respond'] = () => ({ status: 200 }),
): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Received['json'];
      try {
        json = JSON.parse(body) as Received['json'];
      } catch {
        json = { type: '', event: '', timestamp: '', data: { job_id: '' } };
      }
      const entry: Received = { headers: req.headers, body, at: Date.now(), json };
      received.push(entry);
      const reply = receiver.respond(entry, received.length);
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '{"status":"received"}');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    respond,
    async until(predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline)
          throw new Error(
            `receiver: condition not met in ${timeoutMs} ms; got ${received.length} request(s)`,
          );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}
