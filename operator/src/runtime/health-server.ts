// The operator's HTTP endpoints for the kubelet and Prometheus, on node:http (three routes
// need no framework):
//   /healthz  200 while the process serves at all (liveness: a wedged event loop fails it)
//   /readyz   200 once every informer has synced, else 503 listing what is missing
//   /metrics  the prom-client registry, in Prometheus text format
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from './logger.ts';

export interface Readiness {
  ready: boolean;
  /** Human-readable reasons when not ready. */
  reasons: string[];
}

export interface HealthServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  registry: Registry;
  readiness: () => Readiness;
  logger?: Logger;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const log = options.logger ?? silentLogger;
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const send = (status: number, body: string, contentType = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      response.end(body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return send(405, 'method not allowed\n');
    switch (path) {
      case '/healthz':
      case '/livez':
        return send(200, 'ok\n');
      case '/readyz': {
        const { ready, reasons } = options.readiness();
        return ready
          ? send(200, 'ok\n')
          : send(503, `not ready:\n${reasons.map((r) => `- ${r}\n`).join('')}`);
      }
      case '/metrics':
        options.registry.metrics().then(
          (text) => send(200, text, options.registry.contentType),
          (err: unknown) => {
            log.error({ err }, 'collecting metrics failed');
            send(500, 'collecting metrics failed\n');
          },
        );
        return;
      default:
        return send(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
