// Where the rate-limit counters live in Redis (beside the routing config, same prefix):
//
//   <prefix>limits:v1:{<team>}:<kind>:<id>:rpm:<window>   STRING  requests started in the window
//   <prefix>limits:v1:{<team>}:<kind>:<id>:tpm:<window>   STRING  tokens used in the window,
//                                                                 plus unsettled reservations
//   <prefix>limits:v1:{<team>}:<kind>:<id>:inflight       ZSET    requestId → lease end (ms)
//
// <kind>:<id> is key:<key hash>, team:<team id>, or subscription:<the ModelSubscription's
// uid> (records written before the uid was carried: subscription:<model>, see
// limits-from-policy.ts).
//
// <window> is floor(unix seconds / 60) by Redis's clock; window counters expire a window after
// theirs ended. The {<team>} hash tag puts every counter of one request in one Redis Cluster
// slot, so one script can touch them all. Team and id are URL-encoded: an id holding ':', '{'
// or '}' can neither end the hash tag early nor read as another scope's name, and the
// usual ids (DNS labels, key hashes, model names) stay readable.
//
// Only the scope's base name is computed here: the window comes from Redis's TIME inside the
// Lua scripts, which append the suffixes above (an admission reports its window back, so its
// settle can name the window its reservation was made in).
import type { ScopeKind } from './rate-limiter.ts';

export const WINDOW_SECONDS = 60;

export const LIMIT_SUFFIX = {
  requests: ':rpm:',
  tokens: ':tpm:',
  inflight: ':inflight',
} as const;

/** `<prefix>limits:v1:{<team>}:<kind>:<id>`: what the scripts add suffixes to. */
export function scopeBaseKey(prefix: string, team: string, kind: ScopeKind, id: string): string {
  if (prefix.includes('{') || prefix.includes('}')) {
    // A brace in the prefix would become the hash tag and scatter one request's keys.
    throw new Error('the Redis key prefix must not contain { or }');
  }
  return `${prefix}limits:v1:{${encodeURIComponent(team)}}:${kind}:${encodeURIComponent(id)}`;
}

/** The fixed window `nowMs` falls in. */
export function windowOf(nowMs: number): number {
  return Math.floor(nowMs / 1000 / WINDOW_SECONDS);
}

/** When window `window` ends, in ms since the epoch. */
export function windowEndMs(window: number): number {
  return (window + 1) * WINDOW_SECONDS * 1000;
}
