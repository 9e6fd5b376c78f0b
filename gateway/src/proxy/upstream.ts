// The connection pool to LiteLLM (undici), and which headers cross the gateway. Hop-by-hop
// headers (RFC 9110 §7.6.1) belong to one connection and never do; the caller's key does,
// so LiteLLM attributes the spend to it.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
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
    basePath: url.pathname.replace(/\/+$/, ''),
    headersTimeoutMs: options.headersTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    close: () => pool.close(),
  };
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const NO_OPTIONS: ReadonlySet<string> = new Set();

/** The headers a Connection header names: hop-by-hop for this message too (§7.6.1). */
function connectionOptions(connection: string | string[] | undefined): ReadonlySet<string> {
  // The usual values name no header: skip the parsing on every request.
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') {
    return NO_OPTIONS;
  }
  const names = new Set<string>();
  for (const value of [connection].flat()) {
    for (const option of value.split(',')) names.add(option.trim().toLowerCase());
  }
  return names;
}

/** The caller's headers as sent on: without hop-by-hop ones, host and framing. */
export function requestHeadersFor(
  headers: IncomingHttpHeaders,
  key: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionOptions(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (name === 'host' || name === 'content-length' || name === 'expect') continue;
    // Answers come back uncompressed, so their usage can be read on the way through.
    if (name === 'accept-encoding') continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  // A key sent as `api-key` reaches LiteLLM in the header every LiteLLM route reads.
  out.authorization = `Bearer ${key}`;
  return out;
}

/** The upstream's answer headers as passed back; `rewritten`: the body is not the upstream's. */
export function responseHeadersFor(
  headers: Record<string, string | string[] | undefined>,
  rewritten: boolean,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = connectionOptions(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (rewritten && name === 'content-length') continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
