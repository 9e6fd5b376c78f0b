// X-Forwarded-For, -Proto and -Host for LiteLLM (its allowed_ips, its logs). A caller's own
// X-Forwarded-* are believed only from a peer in TRUSTED_PROXIES (the OpenShift router's
// range, say), through fastify's trustProxy (proxy-addr): X-Forwarded-For then keeps the
// addresses the trusted proxies added, from the first address none of them vouches for, so a
// client cannot prepend an address of its choosing. The peer address is always appended.
import type { FastifyRequest } from 'fastify';

export interface Forwarding {
  /** X-Forwarded-For: client first, the gateway's peer last. */
  for: string;
  proto: string;
  /** "" for a request without Host (HTTP/1.0). */
  host: string;
}

export function forwardingOf(request: FastifyRequest): Forwarding {
  // [peer, …, the first untrusted address]: proxy-addr's order, nearest first. Undefined
  // when no proxy is trusted (app.ts sets no trustProxy then): the peer alone.
  const chain = request.ips;
  if (chain === undefined) {
    const peer = request.raw.socket.remoteAddress ?? '';
    return { for: peer, proto: request.protocol, host: request.host };
  }
  let forwardedFor = chain[chain.length - 1]!;
  for (let i = chain.length - 2; i >= 0; i--) forwardedFor += `, ${chain[i]}`;
  return { for: forwardedFor, proto: request.protocol, host: request.host };
}
