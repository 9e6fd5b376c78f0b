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
 * Adds `delta` tokens (negative: gives them back) to window `window` (-1: the current one) of a
 * scope's tpm counter.
 * A window that has ended takes no more debits (they go to the current one, so a late settle
 * still counts), but does take a refund of its own reservation; a counter that is gone (expired,
 * or Redis lost it) is not recreated by a refund, and a counter never goes below 0.
 */
const ADJUST_TOKENS = `
local function adjustTokens(base, delta, window, current)
  if delta == 0 then return end
  if window < 0 or (delta > 0 and window < current) then window = current end
  local counter = base .. '${LIMIT_SUFFIX.tokens}' .. window
  if delta < 0 and redis.call('EXISTS', counter) == 0 then return end
  if redis.call('INCRBY', counter, delta) < 0 then redis.call('SET', counter, 0) end
  redis.call('EXPIREAT', counter, (window + 2) * ${WINDOW_SECONDS})
end
`;

/**
 * KEYS: the scopes' base names, then the budgets' spend counters. ARGV: requestId, leaseMs,
 * reserve, the number of scopes n, then per scope rpm, tpm, maxParallel ('' = no limit), then
 * per budget its max in micro-dollars ('' = none) and '1' when spend must pass it (team) or ''
 * when reaching it is enough (key).
 * Budgets first: a spent one refuses and nothing is counted. Then every limit is checked;
 * only when all have room is the request counted (INCR rpm, INCRBY tpm by the reservation,
 * ZADD the lease). A tpm scope has room when the window's tokens plus the reservation stay
 * within tpm. Returns {refused, nowMs, then per scope: requests, tokens, parallel, then per
 * budget: spend}: refused is 0, 3·(scope−1) + 1|2|3 for the first full rpm|tpm|parallel
 * limit, or 3n + budget for a spent budget; the counts are after this request (unchanged
 * when refused).
 */
const ADMIT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = math.floor(t[1] / ${WINDOW_SECONDS})
-- a window's counters outlive it by one window (a late settle can still find them)
local expireAt = (window + 2) * ${WINDOW_SECONDS}
local requestId, leaseMs, reserve, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local reply, refused = {0, now}, 0

-- budgets: read the spend of each; the first spent one refuses
local b = 4 + 3 * n
for j = 1, #KEYS - n do
  local spend = tonumber(redis.call('GET', KEYS[n + j])) or 0
  local max, passed = tonumber(ARGV[b + 2 * j - 1]), ARGV[b + 2 * j] == '1'
  if refused == 0 and max and ((passed and spend > max) or (not passed and spend >= max)) then
    refused = 3 * n + j
  end
  reply[2 + 3 * n + j] = spend
end

-- check: read everything, change nothing but expired leases
for i = 1, n do
  local base = KEYS[i]
  local rpm, tpm, par = tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3]), tonumber(ARGV[3 * i + 4])
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
    elseif tpm and (tokens >= tpm or tokens + reserve > tpm) then refused = 3 * i - 1
    elseif par and parallel >= par then refused = 3 * i end
  end
  reply[3 * i], reply[3 * i + 1], reply[3 * i + 2] = requests, tokens, parallel
end
reply[1] = refused
if refused > 0 then return reply end

-- apply: every scope had room
for i = 1, n do
  local base = KEYS[i]
  if ARGV[3 * i + 2] ~= '' then
    local counter = base .. '${LIMIT_SUFFIX.requests}' .. window
    reply[3 * i] = redis.call('INCR', counter)
    redis.call('EXPIREAT', counter, expireAt)
  end
  if ARGV[3 * i + 3] ~= '' and reserve > 0 then
    local counter = base .. '${LIMIT_SUFFIX.tokens}' .. window
    reply[3 * i + 1] = redis.call('INCRBY', counter, reserve)
    redis.call('EXPIREAT', counter, expireAt)
  end
  if ARGV[3 * i + 4] ~= '' then
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
 * ARGV: requestId, delta, window, then per scope (as KEYS) '1'|'' has tpm, '1'|'' has parallel.
 * Frees the request's slot in every inflight set and settles its reservation made in `window`
 * to the real usage (delta = real − reserved) in every tpm scope. Returns how many slots it
 * freed (0 when the leases had already ended).
 */
const SETTLE = `${ADJUST_TOKENS}
local t = redis.call('TIME')
local current = math.floor(t[1] / ${WINDOW_SECONDS})
local requestId, delta, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local freed = 0
for i, base in ipairs(KEYS) do
  if ARGV[2 * i + 2] == '1' then adjustTokens(base, delta, window, current) end
  if ARGV[2 * i + 3] == '1' then
    freed = freed + redis.call('ZREM', base .. '${LIMIT_SUFFIX.inflight}', requestId)
  end
end
return freed
`;

/**
 * ARGV: per scope (as KEYS) the tokens to add (negative: to give back) and the window they
 * belong to. The settles of several requests of one team, gathered for a moment
 * (RedisRateLimiter), in one call; a base may come more than once (several windows).
 */
const ADD_TOKENS = `${ADJUST_TOKENS}
local t = redis.call('TIME')
local current = math.floor(t[1] / ${WINDOW_SECONDS})
for i, base in ipairs(KEYS) do
  adjustTokens(base, tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i]), current)
end
return #KEYS
`;

/**
 * KEYS: spend counters (budget/budget-check.ts); ARGV: the cost in micro-dollars, then per
 * counter the unix second it expires at ('' = never). Adds the cost to every counter
 * (INCRBY: integers, exact) in one step. Returns how many counters it charged.
 */
const CHARGE_SPEND = `
local cost = ARGV[1]
for i, counter in ipairs(KEYS) do
  redis.call('INCRBY', counter, cost)
  if ARGV[i + 1] ~= '' then redis.call('EXPIREAT', counter, ARGV[i + 1]) end
end
return #KEYS
`;

const ADMIT_COMMAND = 'llmtenancyLimitsAdmit';
const CHARGE_SPEND_COMMAND = 'llmtenancyBudgetsChargeSpend';
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

/** One budget as the scripts see it: its spend counter and the max spend may not reach. */
export interface ScriptBudget {
  counter: string;
  /** Micro-dollars; undefined: none (a soft budget alone is only read). */
  maxMicros?: number | undefined;
  /** True: refused when spend > max (a team); false: when spend ≥ max (a key). */
  strict: boolean;
}

/** What ADMIT answered. `refused`: the index of the first full scope and which limit. */
export interface AdmitReply {
  nowMs: number;
  refused: { scope: number; limit: 'requests' | 'tokens' | 'parallel' } | undefined;
  /** Per scope, in the order sent; after this request (unchanged when refused). */
  counts: { requests: number; tokens: number; parallel: number }[];
  /** The first spent budget: its index; undefined when none is. */
  budgetRefused?: number | undefined;
  /** Per budget, in the order sent: its spend (micro-dollars); unset when none was sent. */
  spentMicros?: number[] | undefined;
}

/** A spend counter to charge, and when it expires (unix seconds; undefined: never). */
export interface SpendCharge {
  counter: string;
  expireAtSeconds?: number | undefined;
}

export interface LimitScripts {
  /**
   * `reserve`: the tokens to count in every tpm scope now (settled later); `budgets`: spend
   * counters checked first (all of one team, as the scopes).
   */
  admit(
    scopes: readonly ScriptScope[],
    requestId: string,
    leaseMs: number,
    reserve: number,
    budgets?: readonly ScriptBudget[],
  ): Promise<AdmitReply>;
  /** Adds `micros` to every counter (all of one team), in one call. */
  chargeSpend(charges: readonly SpendCharge[], micros: number): Promise<void>;
  /**
   * Frees the request's slots and adds `delta` (real − reserved tokens, may be negative) to
   * the tpm scopes' `window`. Resolves with the number of parallel slots freed.
   */
  settle(
    scopes: readonly ScriptScope[],
    requestId: string,
    delta: number,
    window: number,
  ): Promise<number>;
  /** Adds each debit (may be negative) to its base's window (all of one team). */
  addTokens(debits: readonly TokenDebit[]): Promise<void>;
}

/** Tokens to add to (negative: take from) one scope's tpm counter of one window. */
export interface TokenDebit {
  base: string;
  window: number;
  delta: number;
}

/** A token count as the scripts take it: an integer, 0 for anything not finite. */
const tokenArg = (n: number) => (Number.isFinite(n) ? Math.round(n) : 0);
const limitArg = (n: number | undefined) => (n === undefined ? '' : String(n));
const LIMIT_KINDS = ['requests', 'tokens', 'parallel'] as const;

/** Defines the scripts on `redis` (idempotent: same names, same code) and returns callers. */
export function limitScripts(redis: Redis): LimitScripts {
  // No numberOfKeys: it varies with the scopes, so the count goes first in each call.
  redis.defineCommand(ADMIT_COMMAND, { lua: ADMIT });
  redis.defineCommand(SETTLE_COMMAND, { lua: SETTLE });
  redis.defineCommand(ADD_TOKENS_COMMAND, { lua: ADD_TOKENS });
  redis.defineCommand(CHARGE_SPEND_COMMAND, { lua: CHARGE_SPEND });
  // defineCommand adds methods TypeScript cannot see.
  const commands = redis as unknown as Record<string, ScriptCommand>;
  return {
    async admit(scopes, requestId, leaseMs, reserve, budgets = []) {
      const args = [requestId, leaseMs, Math.max(0, tokenArg(reserve)), scopes.length];
      for (const s of scopes) {
        args.push(limitArg(s.rpm), limitArg(s.tpm), limitArg(s.maxParallelRequests));
      }
      for (const b of budgets) args.push(limitArg(b.maxMicros), b.strict ? '1' : '');
      const keys = [...scopes.map((s) => s.base), ...budgets.map((b) => b.counter)];
      const reply = await commands[ADMIT_COMMAND]!.call(redis, keys.length, ...keys, ...args);
      return parseAdmitReply(reply, scopes.length, budgets.length);
    },
    async chargeSpend(charges, micros) {
      const keys = charges.map((c) => c.counter);
      const args = [micros, ...charges.map((c) => limitArg(c.expireAtSeconds))];
      await commands[CHARGE_SPEND_COMMAND]!.call(redis, keys.length, ...keys, ...args);
    },
    async settle(scopes, requestId, delta, window) {
      const args = [requestId, tokenArg(delta), window];
      for (const s of scopes) {
        args.push(s.tpm === undefined ? '' : '1', s.maxParallelRequests === undefined ? '' : '1');
      }
      const keys = scopes.map((s) => s.base);
      const reply = await commands[SETTLE_COMMAND]!.call(redis, keys.length, ...keys, ...args);
      if (typeof reply !== 'number') throw new Error('unexpected reply from the settle script');
      return reply;
    },
    async addTokens(debits) {
      const keys = debits.map((d) => d.base);
      const args = debits.flatMap((d) => [tokenArg(d.delta), d.window]);
      await commands[ADD_TOKENS_COMMAND]!.call(redis, keys.length, ...keys, ...args);
    },
  };
}

export function parseAdmitReply(reply: unknown, scopeCount: number, budgetCount = 0): AdmitReply {
  if (
    !Array.isArray(reply) ||
    reply.length !== 2 + 3 * scopeCount + budgetCount ||
    !reply.every((n) => typeof n === 'number')
  ) {
    throw new Error('unexpected reply from the admit script');
  }
  const [refused, nowMs, ...rest] = reply as number[];
  const counts = [];
  for (let i = 0; i < scopeCount; i++) {
    counts.push({ requests: rest[3 * i]!, tokens: rest[3 * i + 1]!, parallel: rest[3 * i + 2]! });
  }
  const byLimit = refused! > 0 && refused! <= 3 * scopeCount;
  const parsed: AdmitReply = {
    nowMs: nowMs!,
    refused: byLimit
      ? { scope: Math.floor((refused! - 1) / 3), limit: LIMIT_KINDS[(refused! - 1) % 3]! }
      : undefined,
    counts,
  };
  if (budgetCount > 0) {
    parsed.spentMicros = rest.slice(3 * scopeCount);
    if (refused! > 3 * scopeCount) parsed.budgetRefused = refused! - 3 * scopeCount - 1;
  }
  return parsed;
}
