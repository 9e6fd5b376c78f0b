// The connection pool to LiteLLM (undici). Which headers cross, each way: request-headers.ts
// and response-headers.ts.
import { Pool } from 'undici';

export interface UpstreamOptions {
  /** LiteLLM's base URL; a path in it prefixes every forwarded path. */
  url: string;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
}

export interface Upstream {
  pool: Pool;
  /** The origin of the base URL ("http://litellm.litellm.svc:4000"). */
  origin: string;
  /** The path prefix of the base URL ("" or "/litellm"). */
  basePath: string;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  close(): Promise<void>;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const url = new URL(options.url);
  const pool = new Pool(url.origin, {
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.idleTimeoutMs,
    keepAliveTimeout: 30_000,
  });
  return {
    pool,
    origin: url.origin,
    basePath: url.pathname.replace(/\/+$/, ''),
    headersTimeoutMs: options.headersTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    close: () => pool.close(),
  };
}
