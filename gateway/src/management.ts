// /healthz, /readyz and /metrics on a port of their own, so the public Route/Ingress never
// exposes per-team metrics and probes never compete with model traffic.
//   /healthz  the process answers
//   /readyz   Redis is connected, changes are subscribed and the routing config was read,
//             and the gateway is not stopping (then Kubernetes stops sending it traffic)
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  ok: () => boolean;
}

export function buildManagementApp(options: {
  registry: Registry;
  checks: readonly ReadinessCheck[];
}): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const failing = options.checks.filter((c) => !c.ok()).map((c) => c.name);
    if (failing.length > 0) return reply.code(503).send({ status: 'not ready', failing });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  return app;
}
