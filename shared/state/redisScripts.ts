/**
 * The state store's Lua scripts, loaded once per connection and called by hash (EVALSHA, EVAL on a
 * socket that has not seen them: ioredis's defineCommand, on a server or on every Cluster node).
 * Each script touches only the keys it is given, so on Cluster it runs wherever their one slot is.
 */
import type { RedisClient } from './redisConnection';

const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/**
 * KEYS: the written keys, then the checked keys, then one due index per written key, then one
 * recent index per written key (the written key itself where there is none: same slot, untouched).
 * ARGV: writes, checks, then per write expectedVersion, value, ttlMs (0 = none), due (0 keep,
 * 1 file at, 2 take out), at, member, channel ('' = no announcement), message, recent keep (0 =
 * none), recent at; then per check expectedVersion.
 */
const COMPARE_AND_SET_MANY = `
local writes = tonumber(ARGV[1])
local checks = tonumber(ARGV[2])
local base = 2
local stride = 10
local checkBase = base + writes * stride
for i = 1, writes do
  local current = tonumber(redis.call('HGET', KEYS[i], 'v') or '0')
  if current ~= tonumber(ARGV[base + (i - 1) * stride + 1]) then return false end
end
for j = 1, checks do
  local current = tonumber(redis.call('HGET', KEYS[writes + j], 'v') or '0')
  if current ~= tonumber(ARGV[checkBase + j]) then return false end
end
local versions = {}
for i = 1, writes do
  local at = base + (i - 1) * stride
  local version = tonumber(ARGV[at + 1]) + 1
  redis.call('HSET', KEYS[i], 'v', version, 'd', ARGV[at + 2])
  local ttl = tonumber(ARGV[at + 3])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) else redis.call('PERSIST', KEYS[i]) end
  local due = tonumber(ARGV[at + 4])
  local index = KEYS[writes + checks + i]
  if due == 1 then redis.call('ZADD', index, ARGV[at + 5], ARGV[at + 6]) end
  if due == 2 then redis.call('ZREM', index, ARGV[at + 6]) end
  if ARGV[at + 7] ~= '' then redis.call('PUBLISH', ARGV[at + 7], ARGV[at + 8]) end
  local keep = tonumber(ARGV[at + 9])
  if keep > 0 then
    local recent = KEYS[writes + checks + writes + i]
    redis.call('ZADD', recent, ARGV[at + 10], ARGV[at + 6])
    redis.call('ZREMRANGEBYRANK', recent, 0, -keep - 1)
  end
  versions[i] = version
end
return versions`;

/**
 * KEYS[1]: the index. ARGV: limit, lease (ms). Now is the server's TIME, not the caller's clock:
 * every host claims and leases by one clock (scripts may read TIME since Redis 5, which replicates
 * a script's effects rather than the script). Scores are whole ms, formatted without an exponent.
 */
const CLAIM_DUE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now), 'LIMIT', 0, tonumber(ARGV[1]))
local leaseEnd = string.format('%.0f', now + tonumber(ARGV[2]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], leaseEnd, member) end
return due`;

/** KEYS[1]: the index. ARGV: limit, 1 for highest scores first. */
const READ_INDEX = `
local size = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[1])
if limit < 1 then return {size, {}} end
if ARGV[2] == '1' then return {size, redis.call('ZREVRANGE', KEYS[1], 0, limit - 1, 'WITHSCORES')} end
return {size, redis.call('ZRANGE', KEYS[1], 0, limit - 1, 'WITHSCORES')}`;

export interface ScriptCommands {
  trellisIncrement(key: string, windowMs: number): Promise<[number, number]>;
  trellisCompareAndSetMany(keyCount: number, ...keysAndArgs: Array<string | number>): Promise<number[] | null>;
  trellisClaimDue(index: string, limit: number, leaseMs: number): Promise<string[]>;
  trellisReadIndex(index: string, limit: number, latestFirst: 0 | 1): Promise<[number, string[]]>;
}

/** A client (or a pipeline of it) that has the scripts as commands. */
export type ScriptedRedis = RedisClient & ScriptCommands;

export function defineScripts(client: RedisClient): ScriptedRedis {
  client.defineCommand('trellisIncrement', { numberOfKeys: 1, lua: INCREMENT });
  client.defineCommand('trellisCompareAndSetMany', { lua: COMPARE_AND_SET_MANY });
  client.defineCommand('trellisClaimDue', { numberOfKeys: 1, lua: CLAIM_DUE });
  client.defineCommand('trellisReadIndex', { numberOfKeys: 1, lua: READ_INDEX });
  return client as ScriptedRedis;
}
