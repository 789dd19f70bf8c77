/**
 * A small HTTP server for `run --metrics-port`: GET /metrics answers the exposition text,
 * anything else 404. It binds 127.0.0.1 unless told otherwise (metrics name providers
 * and models, nothing secret, but a run is not a service to expose by default).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VisionpipeError } from '../errors.js';
import type { Metrics } from './prometheus.js';

export interface MetricsServer {
  /** `http://host:port` as bound (port 0 becomes the real one). */
  readonly url: string;
  close(): Promise<void>;
}

export async function serveMetrics(
  metrics: Metrics,
  port: number,
  host = '127.0.0.1',
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    metrics.expose().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (error: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(error as Error).message}\n`),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new VisionpipeError(
          'INVALID_OPTION',
          `--metrics-port ${port}: cannot listen on ${host} (${error.message})`,
          {
            option: 'metricsPort',
            cause: error,
          },
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
