// The headers of LiteLLM's answer that reach the caller: an allowlist, so nothing naming the
// platform's insides crosses (x-litellm-model-api-base, the provider's own headers LiteLLM
// passes as llm_provider-*, its version, set-cookie, the provider's x-ratelimit-* that would
// overwrite the gateway's own). A Location pointing into LiteLLM is rewritten to the
// gateway's public URL; one pointing anywhere else is dropped, as it may name an internal host.
import type { OutgoingHttpHeaders } from 'node:http';
import { connectionOptions, HOP_BY_HOP } from './hop-by-hop.ts';

/** Passed as they are. */
const PASSED: ReadonlySet<string> = new Set([
  'content-type',
  'content-length', // unless the gateway rewrites the body
  'content-encoding', // an answer the gateway did not ask to be compressed passes as it is
  'content-disposition', // file downloads
  'cache-control',
  'retry-after', // LiteLLM's own 429 and 503
  'x-request-id',
  'x-litellm-call-id', // the id of LiteLLM's spend log entry, for support
  'x-litellm-response-cost', // the caller's own spend for this request
]);
/** Every response header that may cross: PASSED, and a Location rewritten by publicLocation. */
export const PASSED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([...PASSED, 'location']);

/** MCP's session id, handed out on initialize: passed back on the MCP routes only. */
export const MCP_RESPONSE_HEADERS: ReadonlySet<string> = new Set(['mcp-session-id']);

for (const name of HOP_BY_HOP) {
  if (PASSED_RESPONSE_HEADERS.has(name) || MCP_RESPONSE_HEADERS.has(name)) {
    throw new Error(`${name} must never be passed back`);
  }
}

/**
 * The answer headers as passed back, Location aside; `rewritten`: the body is not LiteLLM's;
 * `also`: its route's own.
 */
export function responseHeadersFor(
  headers: Record<string, string | string[] | undefined>,
  rewritten: boolean,
  also?: ReadonlySet<string>,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = connectionOptions(headers.connection);
  for (const name in headers) {
    if (!(PASSED.has(name) || also?.has(name)) || listed.has(name)) continue;
    if (rewritten && name === 'content-length') continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Where the request was sent upstream and where the caller reached the gateway. */
export interface LocationContext {
  /** LiteLLM's origin and base path ("http://litellm:4000", "/litellm" or ""). */
  upstreamOrigin: string;
  upstreamBasePath: string;
  /** The path and query the request had at the gateway. */
  requestUrl: string;
  /** The gateway as the caller reached it ("https://llm.apps.example.com"), "" if unknown. */
  publicOrigin: () => string;
}

/** `target` (a Location from LiteLLM) as the caller should follow it, or undefined: drop it. */
export function publicLocation(target: string, context: LocationContext): string | undefined {
  const { upstreamOrigin, upstreamBasePath } = context;
  let url: URL;
  try {
    url = new URL(target, `${upstreamOrigin}${upstreamBasePath}${context.requestUrl}`);
  } catch {
    return undefined;
  }
  if (url.origin !== upstreamOrigin) return undefined;
  const path = url.pathname;
  if (upstreamBasePath !== '' && !path.startsWith(`${upstreamBasePath}/`)) return undefined;
  return `${context.publicOrigin()}${path.slice(upstreamBasePath.length)}${url.search}${url.hash}`;
}
