// The self-service page: plain HTML, CSS and ES modules from gateway/public/, no build step.
// The page calls the self-service API (/api) and the sign-in endpoints (/auth) with the
// session cookie. A strict Content-Security-Policy: scripts and styles only from these files
// (no inline script or style), fetches only to this origin, never framed.
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const PAGE_ROOT = fileURLToPath(new URL('../../public/', import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface PageOptions {
  /** Where the page is served. Default /ui/. */
  prefix?: string;
}

export async function pagePlugin(app: FastifyInstance, options: PageOptions): Promise<void> {
  const prefix = options.prefix ?? '/ui/';
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-cache');
  });
  await app.register(fastifyStatic, {
    root: PAGE_ROOT,
    prefix,
    index: ['index.html'],
    redirect: true,
  });
}
