// The headers a forwarded request carries to LiteLLM: an allowlist, so a header LiteLLM acts
// on (a second credential, x-litellm-* routing and spend tags, a cookie, an OpenAI
// organization) never reaches it just because nobody thought to drop it. The one credential
// is `Authorization: Bearer <the checked key>`; the X-Forwarded-* headers are the gateway's
// own (forwarded-headers.ts). README "Header rules" lists the same names.
import type { IncomingHttpHeaders } from 'node:http';
import { CREDENTIAL_HEADERS } from '../auth/key-from-request.ts';
import { connectionOptions, HOP_BY_HOP } from './hop-by-hop.ts';
import type { Forwarding } from './forwarded-headers.ts';

/** The caller's headers that cross, by name (lower case). */
export const FORWARDED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'accept',
  'user-agent', // LiteLLM logs it with the spend
  'openai-beta', // the Assistants and Realtime APIs require it
  'anthropic-version', // /v1/messages requires it
  'anthropic-beta',
  'traceparent', // W3C trace context, so a trace spans gateway and LiteLLM
  'tracestate',
  'x-request-id',
]);

/**
 * MCP's streamable HTTP transport (spec 2025-06-18): the session the server handed out, the
 * protocol version, and where a resumed SSE stream picks up. Forwarded on the MCP routes
 * only, which a Team must have enabled.
 */
export const MCP_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
]);

for (const name of [...CREDENTIAL_HEADERS, ...HOP_BY_HOP]) {
  if (FORWARDED_REQUEST_HEADERS.has(name) || MCP_REQUEST_HEADERS.has(name)) {
    throw new Error(`${name} must never be forwarded`);
  }
}

/** The headers sent upstream for a request checked with `key`; `also`: its route's own. */
export function requestHeadersFor(
  headers: IncomingHttpHeaders,
  key: string,
  forwarding: Forwarding,
  also?: ReadonlySet<string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionOptions(headers.connection);
  for (const name in headers) {
    if (!(FORWARDED_REQUEST_HEADERS.has(name) || also?.has(name)) || listed.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  out.authorization = `Bearer ${key}`;
  out['x-forwarded-for'] = forwarding.for;
  out['x-forwarded-proto'] = forwarding.proto;
  if (forwarding.host !== '') out['x-forwarded-host'] = forwarding.host;
  return out;
}
