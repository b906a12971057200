/**
 * The shared tier of the entity cache on the cache Redis (CACHE_REDIS_URL, never the state
 * store): one hash per entity (`<prefix><Type>:<key JSON>`), one field per variant, so a change
 * drops every subgraph's and every caller's entries for an entity with one DEL.
 *
 * A cache must never cost a request more than a miss: commands time out quickly, nothing queues
 * while disconnected, and after a failure Redis is left alone for `restMs` (every lookup a miss,
 * at no cost) before it is tried again. Drops that fail are kept and sent again once Redis is back.
 *
 * Cheap under load: ioredis's auto-pipelining sends every command issued in one tick (and those
 * issued while a batch is out) in one write, and each write is one script (EVALSHA) rather than a
 * MULTI of four commands: on loopback a profile of the cache-on gateway put a quarter of its CPU in
 * socket writes, and each write to Redis is a system call that runs Redis's side of TCP too.
 */
import Redis from 'ioredis';
import type { Logger } from '@trellis/kit';
import { withTimeout } from '@trellis/kit/internal/events/kafka/timeout';

/** Where root answers live under the prefix, and how an entity's hash names the ones it holds. */
const ROOT = 'root:';

/** DEL the entity's hash and every root answer it names (fields `root:<key>`), at once. */
const DROP_SCRIPT = `
local fields = redis.call('HKEYS', KEYS[1])
for _, field in ipairs(fields) do
  if string.sub(field, 1, string.len(ARGV[2])) == ARGV[2] then redis.call('DEL', ARGV[1] .. field) end
end
return redis.call('DEL', KEYS[1])
`;

/** Lets a hash live as long as its longest-lived entry: PEXPIRE NX gives a new hash its TTL, GT only ever lengthens it (Redis 7). */
const KEEP_FOR = `
local function keepFor(key, ttl)
  redis.call('PEXPIRE', key, ttl, 'NX')
  redis.call('PEXPIRE', key, ttl, 'GT')
end
`;

/** HSET one variant of an entity (KEYS[1]): ARGV variant, value, TTL in ms. */
const SET_SCRIPT = `${KEEP_FOR}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
keepFor(KEYS[1], ARGV[3])
return 1
`;

/** SET a root answer (KEYS[1]: ARGV value, TTL in ms, its field name in an entity's hash) and file it under each entity KEYS[2..]. */
const SET_ROOT_SCRIPT = `${KEEP_FOR}
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], ARGV[3], '1')
  keepFor(KEYS[i], ARGV[2])
end
return 1
`;

/** The scripts, as ioredis commands (EVALSHA, loaded on first use, auto-pipelined like any command). */
type ScriptedRedis = Redis & {
  trellisCacheSet(key: string, variant: string, value: string, ttlMs: number): Promise<number>;
  trellisCacheSetRoot(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Promise<number>;
};

export interface RedisTierOptions {
  url: string;
  prefix: string;
  commandTimeoutMs: number;
  logger: Logger;
  now: () => number;
  /** How long Redis is left alone after a failure (ms). */
  restMs?: number;
  /** Drops waiting for Redis to come back, at most. */
  maxPendingDrops?: number;
  onError?: (operation: 'read' | 'write' | 'drop') => void;
}

export class RedisTier {
  private readonly client: ScriptedRedis;
  private restingUntil = 0;
  private readonly pendingDrops = new Set<string>();
  private isDown = false;
  private retrying = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(private readonly options: RedisTierOptions) {
    const client = new Redis(options.url, {
      enableAutoPipelining: true,
      commandTimeout: options.commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
      connectionName: 'trellis-gateway-entity-cache',
    });
    client.defineCommand('trellisCacheSet', { numberOfKeys: 1, lua: SET_SCRIPT });
    client.defineCommand('trellisCacheSetRoot', { lua: SET_ROOT_SCRIPT });
    this.client = client as ScriptedRedis;
    this.client.on('error', (error: Error) => this.failed(error));
    this.client.on('ready', () => this.succeeded());
  }

  /** Each entity's value for its variant (null: none); undefined when Redis cannot be asked now. */
  async getMany(lookups: ReadonlyArray<{ entity: string; variant: string }>): Promise<Array<string | null> | undefined> {
    if (!this.isAvailable()) return undefined;
    const { prefix } = this.options;
    try {
      // One HGET each: auto-pipelined, they go out in one write with whatever else this tick asks.
      const answers = await this.withinDeadline(Promise.all(lookups.map(({ entity, variant }) => this.client.hget(prefix + entity, variant))));
      this.succeeded();
      // A drop still waiting for Redis: what Redis holds for that entity may be what it dropped.
      return lookups.map((lookup, index) => {
        const value = answers[index];
        return typeof value === 'string' && !this.pendingDrops.has(lookup.entity) ? value : null;
      });
    } catch (error) {
      this.failed(error as Error, 'read');
      return undefined;
    }
  }

  /** Stores one value; the entity's hash lives as long as its longest-lived entry (each entry knows its own expiry). */
  async set(entity: string, variant: string, value: string, ttlMs: number): Promise<void> {
    if (!this.isAvailable() || this.pendingDrops.has(entity)) return;
    const key = this.options.prefix + entity;
    try {
      await this.client.trellisCacheSet(key, variant, value, ttlMs);
      this.succeeded();
    } catch (error) {
      this.failed(error as Error, 'write');
    }
  }

  /** A cached root answer (null: none); undefined when Redis cannot be asked now. */
  async getRoot(key: string): Promise<string | null | undefined> {
    // A drop still waiting for Redis may concern any root answer there (which entities each holds is not known here).
    if (!this.isAvailable() || this.pendingDrops.size > 0) return undefined;
    try {
      const value = await this.withinDeadline(this.client.get(this.options.prefix + ROOT + key));
      this.succeeded();
      return value;
    } catch (error) {
      this.failed(error as Error, 'read');
      return undefined;
    }
  }

  /** Stores a root answer, and files it under each entity it holds, so a drop of any of them drops it too. */
  async setRoot(key: string, value: string, ttlMs: number, entities: Iterable<string>): Promise<void> {
    const held = [...entities];
    if (!this.isAvailable() || held.some((entity) => this.pendingDrops.has(entity))) return;
    const { prefix } = this.options;
    const keys = [prefix + ROOT + key, ...held.map((entity) => prefix + entity)];
    try {
      await this.client.trellisCacheSetRoot(keys.length, ...keys, value, ttlMs, ROOT + key);
      this.succeeded();
    } catch (error) {
      this.failed(error as Error, 'write');
    }
  }

  /** Drops every entry of the entity and the root answers filed under it; kept and sent again when Redis cannot take it now. */
  async drop(entity: string): Promise<void> {
    if (!this.isAvailable()) return this.keepDrop(entity);
    try {
      await this.client.eval(DROP_SCRIPT, 1, this.options.prefix + entity, this.options.prefix, ROOT);
      this.pendingDrops.delete(entity);
    } catch (error) {
      this.keepDrop(entity);
      this.failed(error as Error, 'drop');
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.client.disconnect();
  }

  /**
   * A read answered within the command timeout from when it was asked: an auto-pipelined command
   * waits for the batch ahead of it to come back before it is sent (and its own timer starts), so
   * against a hung Redis ioredis's timeout alone could double.
   */
  private withinDeadline<T>(read: Promise<T>): Promise<T> {
    const { commandTimeoutMs } = this.options;
    return withTimeout(read, commandTimeoutMs, `the entity cache Redis did not answer within ${commandTimeoutMs} ms`);
  }

  private keepDrop(entity: string): void {
    const max = this.options.maxPendingDrops ?? 100_000;
    // Past the bound the oldest is forgotten; its entry still ends at its TTL.
    if (this.pendingDrops.size >= max) this.pendingDrops.delete(this.pendingDrops.values().next().value as string);
    this.pendingDrops.add(entity);
    this.scheduleRetry();
  }

  /** Sends the kept drops again after a rest, until they are all through: a drop must not wait for a request to come. */
  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retryDrops().finally(() => this.pendingDrops.size > 0 && this.scheduleRetry());
    }, this.options.restMs ?? 1000);
    this.retryTimer.unref();
  }

  private async retryDrops(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      for (const entity of [...this.pendingDrops]) {
        if (!this.isAvailable()) return;
        await this.drop(entity);
      }
    } finally {
      this.retrying = false;
    }
  }

  private isAvailable(): boolean {
    return this.client.status === 'ready' && this.options.now() >= this.restingUntil;
  }

  /** Redis answered: if it had failed, it is back, and the drops it missed are sent (a stopped server resumed keeps its connection, so no `ready` comes). */
  private succeeded(): void {
    if (this.isDown) this.options.logger.info('entity cache Redis answers again');
    this.isDown = false;
    this.restingUntil = 0;
    if (this.pendingDrops.size > 0) void this.retryDrops();
  }

  private failed(error: Error, operation?: 'read' | 'write' | 'drop'): void {
    this.restingUntil = this.options.now() + (this.options.restMs ?? 1000);
    if (operation) this.options.onError?.(operation);
    if (!this.isDown) this.options.logger.warn({ err: error }, 'entity cache Redis failed: lookups are misses until it answers again');
    this.isDown = true;
  }
}
