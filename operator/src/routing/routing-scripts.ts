// The two Lua scripts every routing change goes through. A script runs atomically, so the
// records, the meta hash and the PUBLISH of one change are one step for every reader, and
// the message can carry the revision the change got: something MULTI/EXEC cannot do, since
// inside a transaction the HINCRBY's result is not known yet. ioredis sends them as EVALSHA
// and falls back to EVAL when Redis does not know the script (after a restart).
//
// KEYS: 1 keys hash, 2 meta hash, 3 models string. Message fields are built by string
// concatenation: revisions are integers, epochs go through cjson, and only fields that are
// key hashes (64 lowercase hex) are announced, so the message is always a valid
// RoutingChange.
import type { Redis } from 'ioredis';

/**
 * One incremental change, on top of what Redis holds. ARGV: channel, expected epoch,
 * updatedAt, schemaVersion, op, then per op:
 *   put     hash, json, hash, json, …     HSET each
 *   del     hash, hash, …                 HDEL each
 *   prune   hash, json, …                 HDEL each whose value is still exactly json
 *   models  json                          SET models
 *   complete                              HDEL meta's incomplete flag (the publisher has now
 *                                         heard of every key); message: "complete":true
 * Writes nothing and returns {0} when meta is missing (Redis lost the config: a full publish
 * must come first), or {-1, epoch} when another publisher's full publish changed the epoch.
 * Otherwise returns {1, revision, epoch, removed hashes…}; the revision only moves, and a
 * message is only published, when something changed.
 */
const WRITE = `
local keys, meta, models = KEYS[1], KEYS[2], KEYS[3]
local channel, expected, updatedAt, schemaVersion, op =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then return {0} end
if epoch ~= expected then return {-1, epoch} end

local announced, removed, changed = {}, {}, 0
local function announce(field)
  if #field == 64 and string.match(field, '^[0-9a-f]+$') then
    announced[#announced + 1] = '"' .. field .. '"'
  end
end
if op == 'put' then
  for i = 6, #ARGV, 2 do
    redis.call('HSET', keys, ARGV[i], ARGV[i + 1])
    announce(ARGV[i])
    changed = changed + 1
  end
elseif op == 'del' then
  for i = 6, #ARGV do
    if redis.call('HDEL', keys, ARGV[i]) == 1 then
      announce(ARGV[i])
      removed[#removed + 1] = ARGV[i]
      changed = changed + 1
    end
  end
elseif op == 'prune' then
  for i = 6, #ARGV, 2 do
    if redis.call('HGET', keys, ARGV[i]) == ARGV[i + 1] then
      redis.call('HDEL', keys, ARGV[i])
      announce(ARGV[i])
      removed[#removed + 1] = ARGV[i]
      changed = changed + 1
    end
  end
elseif op == 'models' then
  redis.call('SET', models, ARGV[6])
  changed = 1
elseif op == 'complete' then
  changed = redis.call('HDEL', meta, 'incomplete')
else
  return redis.error_reply('unknown routing op ' .. op)
end

if changed == 0 then
  return {1, tonumber(redis.call('HGET', meta, 'revision')) or 0, epoch}
end
local revision = redis.call('HINCRBY', meta, 'revision', 1)
redis.call('HSET', meta, 'updatedAt', updatedAt, 'schemaVersion', schemaVersion)
local message = '{"revision":' .. revision .. ',"epoch":' .. cjson.encode(epoch)
if #announced > 0 then message = message .. ',"keys":[' .. table.concat(announced, ',') .. ']' end
if op == 'models' then message = message .. ',"models":true' end
if op == 'complete' then message = message .. ',"complete":true' end
redis.call('PUBLISH', channel, message .. '}')
local reply = {1, revision, epoch}
for _, field in ipairs(removed) do reply[#reply + 1] = field end
return reply
`;

/**
 * Everything, from scratch: the config Redis lost (or never had). ARGV: channel, new epoch,
 * updatedAt, schemaVersion, the publisher's last revision, models json ('' keeps what is
 * there), incomplete ('1' when the publisher has not heard of every key yet, else ''), then
 * hash, json, … The revision continues from the larger of Redis's and ours, so a reader
 * never sees it go back. Returns the new revision.
 */
const REPUBLISH = `
local keys, meta, models = KEYS[1], KEYS[2], KEYS[3]
local channel, epoch, updatedAt, schemaVersion = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local old = tonumber(redis.call('HGET', meta, 'revision')) or 0
local revision = math.max(old, tonumber(ARGV[5]) or 0) + 1
redis.call('DEL', keys, meta)
for i = 8, #ARGV, 2 do redis.call('HSET', keys, ARGV[i], ARGV[i + 1]) end
if ARGV[6] ~= '' then redis.call('SET', models, ARGV[6]) end
redis.call('HSET', meta, 'revision', revision, 'epoch', epoch, 'updatedAt', updatedAt,
  'schemaVersion', schemaVersion)
local incomplete = ''
if ARGV[7] == '1' then
  redis.call('HSET', meta, 'incomplete', '1')
  incomplete = ',"incomplete":true'
end
redis.call('PUBLISH', channel,
  '{"revision":' .. revision .. ',"epoch":' .. cjson.encode(epoch) .. ',"full":true' ..
  incomplete .. '}')
return revision
`;

const WRITE_COMMAND = 'llmtenancyRoutingWrite';
const REPUBLISH_COMMAND = 'llmtenancyRoutingRepublish';

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;

export interface RoutingScripts {
  write(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  republish(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

/** Defines the scripts on `redis` (idempotent: same names, same code) and returns callers. */
export function routingScripts(redis: Redis): RoutingScripts {
  redis.defineCommand(WRITE_COMMAND, { lua: WRITE, numberOfKeys: 3 });
  redis.defineCommand(REPUBLISH_COMMAND, { lua: REPUBLISH, numberOfKeys: 3 });
  // defineCommand adds methods TypeScript cannot see.
  const commands = redis as unknown as Record<string, ScriptCommand>;
  return {
    write: (keys, args) => commands[WRITE_COMMAND]!.call(redis, ...keys, ...args),
    republish: (keys, args) => commands[REPUBLISH_COMMAND]!.call(redis, ...keys, ...args),
  };
}

/** What the write script answered. */
export type WriteReply =
  | { status: 'applied'; revision: number; epoch: string; removed: string[] }
  /** Meta is missing: Redis lost the config; nothing was written. */
  | { status: 'lost' }
  /** Another publisher's full publish set this epoch; nothing was written. */
  | { status: 'epochChanged'; epoch: string };

export function parseWriteReply(reply: unknown): WriteReply {
  if (Array.isArray(reply)) {
    const [status, ...rest] = reply as unknown[];
    if (status === 0) return { status: 'lost' };
    if (status === -1 && typeof rest[0] === 'string') {
      return { status: 'epochChanged', epoch: rest[0] };
    }
    const [revision, epoch, ...removed] = rest;
    if (
      status === 1 &&
      typeof revision === 'number' &&
      typeof epoch === 'string' &&
      removed.every((r) => typeof r === 'string')
    ) {
      return { status: 'applied', revision, epoch, removed: removed as string[] };
    }
  }
  throw new Error('unexpected reply from the routing write script');
}
