// The gateway bench's floor: the least a fastify + undici reverse proxy does for an OpenAI
// request, with no policy. It takes the body as bytes (no JSON parse), forwards it with the
// Authorization header through one keep-alive undici Pool, and streams the answer back with
// the upstream's status and headers. What a real proxy cannot skip stays in: hop-by-hop
// headers dropped, the upstream request aborted when the client goes away, the same undici
// Pool settings, timeouts and body limit as the gateway's defaults (gateway/src/proxy/
// upstream.ts, gateway/src/config.ts). Everything the gateway
// does beyond this (key lookup, policy, rate limits, usage accounting, metrics) is what the
// bench's "added over bare" figures measure.
import Fastify, { type FastifyInstance } from 'fastify';
import { Pool } from 'undici';

export interface BareProxyOptions {
  /** Upstream base URL without /v1, like the gateway's LITELLM_URL. */
  upstream: string;
  port?: number;
  host?: string;
}

export interface BareProxy {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export async function startBareProxy(options: BareProxyOptions): Promise<BareProxy> {
  const upstream = new URL(options.upstream);
  const basePath = upstream.pathname.replace(/\/+$/, '');
  // As the gateway's (gateway/src/proxy/upstream.ts), with its default timeouts.
  const pool = new Pool(upstream.origin, {
    connect: { timeout: 5_000 }, // UPSTREAM_CONNECT_TIMEOUT
    headersTimeout: 10 * 60_000, // UPSTREAM_HEADERS_TIMEOUT
    bodyTimeout: 5 * 60_000, // UPSTREAM_IDLE_TIMEOUT
    keepAliveTimeout: 30_000,
  });
  const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post('/v1/*', async (request, reply) => {
    const abort = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const headers: Record<string, string> = {
      'content-type': request.headers['content-type'] ?? 'application/json',
    };
    if (request.headers.authorization) headers.authorization = request.headers.authorization;
    const answer = await pool.request({
      method: 'POST',
      path: `${basePath}${request.url}`,
      headers,
      body: request.body as Buffer,
      signal: abort.signal,
    });
    reply.code(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value);
    }
    return reply.send(answer.body);
  });

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    close: async () => {
      await app.close();
      await pool.close();
    },
  };
}
