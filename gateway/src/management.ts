// /healthz, /readyz and /metrics on a port of their own, so the public Route/Ingress never
// exposes per-team metrics and probes never compete with model traffic.
//   /healthz  the process answers
//   /readyz   the routing config was read (so the gateway can tell keys apart) and the
//             gateway is not stopping. A Redis outage later does not fail it: cached keys
//             keep working, and failing every instance's readiness at once would turn a
//             degraded gateway into no gateway. It is reported as `degraded` instead.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  ok: () => boolean;
}

export function buildManagementApp(options: {
  registry: Registry;
  /** All must pass for /readyz to answer 200. */
  checks: readonly ReadinessCheck[];
  /** Shown in /readyz when failing, without failing it. */
  degradations?: readonly ReadinessCheck[];
}): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const failing = options.checks.filter((c) => !c.ok()).map((c) => c.name);
    const degraded = (options.degradations ?? []).filter((c) => !c.ok()).map((c) => c.name);
    if (failing.length > 0) return reply.code(503).send({ status: 'not ready', failing, degraded });
    return degraded.length > 0 ? { status: 'degraded', degraded } : { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  return app;
}
