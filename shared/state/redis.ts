/**
 * Redis state store (ioredis). Plain keys are strings; versioned keys are hashes {v, d} changed
 * only by Lua scripts, so compare-and-set is atomic. A dead Redis fails fast: once connected,
 * commands are refused at once while it reconnects, and a hung connection times out per command.
 */
import Redis, { ReplyError, type RedisOptions } from 'ioredis';
import { BackendUnavailableError, errorMessage } from '../errors';
import type { Logger } from '../logging';
import type { RateLimiter, RateLimitPolicy } from '../ratelimit/types';
import { redisRateLimiter } from './redisRateLimiter';
import type { ClaimOptions, Counter, SetOptions, StateStore, Unsubscribe, VersionCheck, VersionedValue, VersionedWrite } from './types';

export interface RedisStateStoreOptions {
  url: string;
  logger?: Logger;
  /** A command with no answer after this long fails. */
  commandTimeoutMs?: number;
  /** Commands allowed to wait for the first connection or in flight at once; more fail at once. */
  maxPending?: number;
  /** Prefix for every key and channel (tests isolate themselves with it). */
  keyPrefix?: string;
}

const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/**
 * KEYS: the written keys, then the checked keys, then one due index per written key ('' for none).
 * ARGV: writes, checks, then per write expectedVersion, value, ttlMs (0 = none), due (0 keep,
 * 1 file at, 2 take out), at, member, channel ('' = no announcement), message; then per check
 * expectedVersion.
 */
const COMPARE_AND_SET_MANY = `
local writes = tonumber(ARGV[1])
local checks = tonumber(ARGV[2])
local base = 2
local stride = 8
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
  versions[i] = version
end
return versions`;

/** KEYS[1]: the index. ARGV: now, limit, lease end. */
const CLAIM_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[3], member) end
return due`;

/** The scripts, loaded once per connection and called by hash (EVALSHA), not sent as text each time. */
type ScriptedRedis = Redis & {
  trellisIncrement(key: string, windowMs: number): Promise<[number, number]>;
  trellisCompareAndSetMany(keyCount: number, ...keysAndArgs: Array<string | number>): Promise<number[] | null>;
  trellisClaimDue(index: string, now: number, limit: number, leaseUntil: number): Promise<string[]>;
};

export class RedisStateStore implements StateStore {
  private readonly client: ScriptedRedis;
  private subscriber?: Redis;
  private readonly listeners = new Map<string, Set<(message: string) => void>>();
  private pending = 0;
  private everReady = false;
  private lastErrorLog = 0;
  private readonly maxPending: number;
  private readonly prefix: string;

  constructor(private readonly options: RedisStateStoreOptions) {
    this.maxPending = options.maxPending ?? 10_000;
    this.prefix = options.keyPrefix ?? '';
    this.client = this.connect('command') as ScriptedRedis;
    this.client.defineCommand('trellisIncrement', { numberOfKeys: 1, lua: INCREMENT });
    this.client.defineCommand('trellisCompareAndSetMany', { lua: COMPARE_AND_SET_MANY });
    this.client.defineCommand('trellisClaimDue', { numberOfKeys: 1, lua: CLAIM_DUE });
    this.client.on('ready', () => (this.everReady = true));
  }

  async get(key: string): Promise<string | null> {
    return this.run(() => this.client.get(this.k(key)));
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<void> {
    await this.run(() =>
      options.ttlMs ? this.client.set(this.k(key), value, 'PX', options.ttlMs) : this.client.set(this.k(key), value),
    );
  }

  async setIfAbsent(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const result = await this.run(() =>
      options.ttlMs
        ? this.client.set(this.k(key), value, 'PX', options.ttlMs, 'NX')
        : this.client.set(this.k(key), value, 'NX'),
    );
    return result === 'OK';
  }

  async delete(key: string): Promise<void> {
    await this.run(() => this.client.del(this.k(key)));
  }

  async increment(key: string, windowMs: number): Promise<Counter> {
    const [count, ttl] = await this.run(() => this.client.trellisIncrement(this.k(key), windowMs));
    return { count, ttlMs: Math.max(0, ttl) };
  }

  /** A rate limiter counting in this Redis, under `<prefix>ratelimit:<policy>:`. */
  rateLimiter(policy: RateLimitPolicy): RateLimiter {
    return redisRateLimiter(this.client, policy, this.k(`ratelimit:${policy.name}`), () => this.assertReady());
  }

  /**
   * The server's `maxmemory-policy` (CONFIG GET), or why it cannot be read: a Redis can refuse
   * CONFIG (renamed away, an ACL without it, a managed service). Throws when Redis is unreachable.
   */
  async evictionPolicy(): Promise<{ policy: string } | { unreadable: string }> {
    try {
      const [, policy] = (await this.client.config('GET', 'maxmemory-policy')) as string[];
      return policy === undefined ? { unreadable: 'CONFIG GET maxmemory-policy answered nothing' } : { policy };
    } catch (error) {
      if (error instanceof ReplyError) return { unreadable: errorMessage(error) };
      throw new BackendUnavailableError('redis', errorMessage(error), error);
    }
  }

  async getVersioned(key: string): Promise<VersionedValue | null> {
    const [version, value] = await this.run(() => this.client.hmget(this.k(key), 'v', 'd'));
    return version === null || value === null ? null : { value, version: Number(version) };
  }

  /**
   * Versioned records are hashes, which MGET cannot read: one pipeline of HMGETs instead, written
   * to Redis at once and answered in one round trip.
   */
  async getVersionedMany(keys: readonly string[]): Promise<Array<VersionedValue | null>> {
    if (keys.length === 0) return [];
    const answers = await this.run(() => keys.reduce((pipeline, key) => pipeline.hmget(this.k(key), 'v', 'd'), this.client.pipeline()).exec());
    return (answers ?? []).map(([error, fields]) => {
      if (error) throw new BackendUnavailableError('redis', errorMessage(error), error);
      const [version, value] = fields as Array<string | null>;
      return version === null || value === null ? null : { value, version: Number(version) };
    });
  }

  async compareAndSet(key: string, expectedVersion: number, value: string, options: SetOptions = {}): Promise<number | null> {
    const versions = await this.compareAndSetMany([{ key, expectedVersion, value, ttlMs: options.ttlMs }]);
    return versions ? versions[0] : null;
  }

  async compareAndSetMany(writes: VersionedWrite[], checks: VersionCheck[] = []): Promise<number[] | null> {
    if (writes.length === 0 && checks.length === 0) return [];
    const keys = [
      ...writes.map((write) => this.k(write.key)),
      ...checks.map((check) => this.k(check.key)),
      // A write without a due index names its own key in its slot; the script never touches it.
      ...writes.map((write) => (write.due ? this.k(write.due.index) : this.k(write.key))),
    ];
    const args: Array<string | number> = [writes.length, checks.length];
    for (const write of writes) {
      const due = write.due === undefined ? 0 : write.due.at === null ? 2 : 1;
      const channel = write.announce ? this.k(write.announce.channel) : '';
      args.push(write.expectedVersion, write.value, write.ttlMs ?? 0, due, write.due?.at ?? 0, write.key, channel, write.announce?.message ?? '');
    }
    for (const check of checks) args.push(check.expectedVersion);
    const result = await this.run(() => this.client.trellisCompareAndSetMany(keys.length, ...keys, ...args));
    return Array.isArray(result) ? result.map(Number) : null;
  }

  async claimDue(index: string, now: number, options: ClaimOptions): Promise<string[]> {
    return this.run(() => this.client.trellisClaimDue(this.k(index), now, options.limit, now + options.leaseMs));
  }

  async keys(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    const pattern = this.k(prefix).replace(/[*?[\]\\]/g, '\\$&') + '*';
    do {
      const [next, batch] = await this.run(() => this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      found.push(...batch.map((key) => key.slice(this.prefix.length)));
    } while (cursor !== '0');
    return [...new Set(found)];
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.run(() => this.client.publish(this.k(channel), message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
    const subscriber = this.subscriberConnection();
    const name = this.k(channel);
    let listeners = this.listeners.get(name);
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(name, listeners);
      await this.run(() => subscriber.subscribe(name));
    }
    listeners.add(onMessage);
    return async () => {
      listeners.delete(onMessage);
      if (listeners.size === 0 && this.listeners.get(name) === listeners) {
        this.listeners.delete(name);
        await this.run(() => subscriber.unsubscribe(name)).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.client, this.subscriber].map((client) => client?.quit().catch(() => client.disconnect())));
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  private subscriberConnection(): Redis {
    if (!this.subscriber) {
      this.subscriber = this.connect('subscriber');
      // ioredis re-subscribes its channels by itself after a reconnect.
      this.subscriber.on('message', (channel: string, message: string) => {
        for (const listener of this.listeners.get(channel) ?? []) listener(message);
      });
    }
    return this.subscriber;
  }

  private connect(role: string): Redis {
    const options: RedisOptions = {
      commandTimeout: this.options.commandTimeoutMs ?? 2000,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      enableOfflineQueue: true,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      connectionName: `trellis-${role}`,
    };
    const client = new Redis(this.options.url, options);
    client.on('error', (error) => {
      // One line every few seconds is enough while Redis is down.
      if (Date.now() - this.lastErrorLog > 5000) {
        this.lastErrorLog = Date.now();
        this.options.logger?.warn({ err: errorMessage(error), role }, 'redis connection error');
      }
    });
    return client;
  }

  private assertReady(): void {
    if (this.everReady && this.client.status !== 'ready') {
      throw new BackendUnavailableError('redis', `not connected (${this.client.status})`);
    }
    if (this.pending >= this.maxPending) throw new BackendUnavailableError('redis', 'too many pending commands');
  }

  /** Runs one command, failing at once when a once-ready connection is down or too much waits. */
  private async run<T>(command: () => Promise<T>): Promise<T> {
    this.assertReady();
    this.pending += 1;
    try {
      return await command();
    } catch (error) {
      throw new BackendUnavailableError('redis', errorMessage(error), error);
    } finally {
      this.pending -= 1;
    }
  }
}
