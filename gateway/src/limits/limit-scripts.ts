// The two Lua scripts of the shared rate limiter (key layout: limit-keys.ts). A script runs
// atomically, so "check every scope, then count in every scope" is one step that no other
// gateway instance can interleave with: 50 concurrent requests against rpm 20 admit exactly
// 20. Both read the time with TIME, so windows follow Redis's clock and every instance agrees
// on them (Redis ≥ 5 replicates a script's effects, so writing after TIME is allowed).
//
// KEYS are the scopes' base names; the scripts append the window and the suffixes, because
// only they know the window. All of one request's keys share the {team} hash tag, so the
// names the scripts build live in the slot of the KEYS passed (what Redis Cluster routes by).
// ioredis sends EVALSHA and falls back to EVAL when Redis does not know the script (after a
// restart or SCRIPT FLUSH).
import type { Redis } from 'ioredis';
import { LIMIT_SUFFIX, WINDOW_SECONDS } from './limit-keys.ts';

/**
 * ARGV: requestId, leaseMs, then per scope (as KEYS) rpm, tpm, maxParallel ('' = no limit).
 * Checks every limit first; only when all have room counts the request (INCR rpm, ZADD the
 * lease). Returns {refused, nowMs, then per scope: requests, tokens, parallel}: refused is 0,
 * or 3·(scope−1) + 1|2|3 for the first full rpm|tpm|parallel limit; the counts are after this
 * request (unchanged when refused).
 */
const ADMIT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = math.floor(t[1] / ${WINDOW_SECONDS})
-- a window's counters outlive it by one window (a late settle can still find them)
local expireAt = (window + 2) * ${WINDOW_SECONDS}
local requestId, leaseMs = ARGV[1], tonumber(ARGV[2])
local reply, refused = {0, now}, 0

-- check: read everything, change nothing but expired leases
for i, base in ipairs(KEYS) do
  local rpm, tpm, par = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2])
  local requests, tokens, parallel = 0, 0, 0
  if rpm then requests = tonumber(redis.call('GET', base .. '${LIMIT_SUFFIX.requests}' .. window)) or 0 end
  if tpm then tokens = tonumber(redis.call('GET', base .. '${LIMIT_SUFFIX.tokens}' .. window)) or 0 end
  if par then
    local inflight = base .. '${LIMIT_SUFFIX.inflight}'
    redis.call('ZREMRANGEBYSCORE', inflight, '-inf', now)
    parallel = redis.call('ZCARD', inflight)
  end
  if refused == 0 then
    if rpm and requests >= rpm then refused = 3 * i - 2
    elseif tpm and tokens >= tpm then refused = 3 * i - 1
    elseif par and parallel >= par then refused = 3 * i end
  end
  reply[3 * i], reply[3 * i + 1], reply[3 * i + 2] = requests, tokens, parallel
end
reply[1] = refused
if refused > 0 then return reply end

-- apply: every scope had room
for i, base in ipairs(KEYS) do
  if ARGV[3 * i] ~= '' then
    local counter = base .. '${LIMIT_SUFFIX.requests}' .. window
    reply[3 * i] = redis.call('INCR', counter)
    redis.call('EXPIREAT', counter, expireAt)
  end
  if ARGV[3 * i + 2] ~= '' then
    local inflight = base .. '${LIMIT_SUFFIX.inflight}'
    redis.call('ZADD', inflight, now + leaseMs, requestId)
    reply[3 * i + 2] = redis.call('ZCARD', inflight)
    -- the newest lease is the longest: the set goes when every lease in it has ended
    redis.call('PEXPIRE', inflight, leaseMs)
  end
end
return reply
`;

/**
 * ARGV: requestId, tokens, then per scope (as KEYS) '1'|'' has tpm, '1'|'' has parallel.
 * Frees the request's slot in every inflight set and adds its tokens to the current window
 * of every tpm scope. Returns how many slots it freed (0 when the leases had already ended).
 */
const SETTLE = `
local t = redis.call('TIME')
local window = math.floor(t[1] / ${WINDOW_SECONDS})
local requestId, tokens = ARGV[1], tonumber(ARGV[2])
local freed = 0
for i, base in ipairs(KEYS) do
  if ARGV[2 * i + 1] == '1' and tokens > 0 then
    local counter = base .. '${LIMIT_SUFFIX.tokens}' .. window
    redis.call('INCRBY', counter, tokens)
    redis.call('EXPIREAT', counter, (window + 2) * ${WINDOW_SECONDS})
  end
  if ARGV[2 * i + 2] == '1' then
    freed = freed + redis.call('ZREM', base .. '${LIMIT_SUFFIX.inflight}', requestId)
  end
end
return freed
`;

/**
 * ARGV: per scope (as KEYS) the tokens to add to its current window. The debits of several
 * requests of one team, gathered for a moment (RedisRateLimiter), in one call.
 */
const ADD_TOKENS = `
local t = redis.call('TIME')
local window = math.floor(t[1] / ${WINDOW_SECONDS})
for i, base in ipairs(KEYS) do
  local counter = base .. '${LIMIT_SUFFIX.tokens}' .. window
  redis.call('INCRBY', counter, ARGV[i])
  redis.call('EXPIREAT', counter, (window + 2) * ${WINDOW_SECONDS})
end
return #KEYS
`;

const ADMIT_COMMAND = 'llmtenancyLimitsAdmit';
const ADD_TOKENS_COMMAND = 'llmtenancyLimitsAddTokens';
const SETTLE_COMMAND = 'llmtenancyLimitsSettle';

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;

/** One scope as the scripts see it: its base key and which limits it has. */
export interface ScriptScope {
  base: string;
  rpm?: number | undefined;
  tpm?: number | undefined;
  maxParallelRequests?: number | undefined;
}

/** What ADMIT answered. `refused`: the index of the first full scope and which limit. */
export interface AdmitReply {
  nowMs: number;
  refused: { scope: number; limit: 'requests' | 'tokens' | 'parallel' } | undefined;
  /** Per scope, in the order sent; after this request (unchanged when refused). */
  counts: { requests: number; tokens: number; parallel: number }[];
}

export interface LimitScripts {
  admit(scopes: readonly ScriptScope[], requestId: string, leaseMs: number): Promise<AdmitReply>;
  /** Resolves with the number of parallel slots freed. */
  settle(scopes: readonly ScriptScope[], requestId: string, tokens: number): Promise<number>;
  /** Adds tokens to the current window of each base (all of one team). */
  addTokens(tokens: ReadonlyMap<string, number>): Promise<void>;
}

const limitArg = (n: number | undefined) => (n === undefined ? '' : String(n));
const LIMIT_KINDS = ['requests', 'tokens', 'parallel'] as const;

/** Defines the scripts on `redis` (idempotent: same names, same code) and returns callers. */
export function limitScripts(redis: Redis): LimitScripts {
  // No numberOfKeys: it varies with the scopes, so the count goes first in each call.
  redis.defineCommand(ADMIT_COMMAND, { lua: ADMIT });
  redis.defineCommand(SETTLE_COMMAND, { lua: SETTLE });
  redis.defineCommand(ADD_TOKENS_COMMAND, { lua: ADD_TOKENS });
  // defineCommand adds methods TypeScript cannot see.
  const commands = redis as unknown as Record<string, ScriptCommand>;
  return {
    async admit(scopes, requestId, leaseMs) {
      const args = [requestId, leaseMs];
      for (const s of scopes) {
        args.push(limitArg(s.rpm), limitArg(s.tpm), limitArg(s.maxParallelRequests));
      }
      const keys = scopes.map((s) => s.base);
      const reply = await commands[ADMIT_COMMAND]!.call(redis, keys.length, ...keys, ...args);
      return parseAdmitReply(reply, scopes.length);
    },
    async settle(scopes, requestId, tokens) {
      const args = [requestId, Number.isFinite(tokens) ? Math.max(0, Math.round(tokens)) : 0];
      for (const s of scopes) {
        args.push(s.tpm === undefined ? '' : '1', s.maxParallelRequests === undefined ? '' : '1');
      }
      const keys = scopes.map((s) => s.base);
      const reply = await commands[SETTLE_COMMAND]!.call(redis, keys.length, ...keys, ...args);
      if (typeof reply !== 'number') throw new Error('unexpected reply from the settle script');
      return reply;
    },
    async addTokens(tokens) {
      const keys = [...tokens.keys()];
      const counts = [...tokens.values()].map((n) => Math.max(0, Math.round(n)));
      await commands[ADD_TOKENS_COMMAND]!.call(redis, keys.length, ...keys, ...counts);
    },
  };
}

export function parseAdmitReply(reply: unknown, scopeCount: number): AdmitReply {
  if (
    !Array.isArray(reply) ||
    reply.length !== 2 + 3 * scopeCount ||
    !reply.every((n) => typeof n === 'number')
  ) {
    throw new Error('unexpected reply from the admit script');
  }
  const [refused, nowMs, ...rest] = reply as number[];
  const counts = [];
  for (let i = 0; i < scopeCount; i++) {
    counts.push({ requests: rest[3 * i]!, tokens: rest[3 * i + 1]!, parallel: rest[3 * i + 2]! });
  }
  return {
    nowMs: nowMs!,
    refused: refused
      ? { scope: Math.floor((refused - 1) / 3), limit: LIMIT_KINDS[(refused - 1) % 3]! }
      : undefined,
    counts,
  };
}
