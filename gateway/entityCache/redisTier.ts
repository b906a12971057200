/**
 * The shared tier of the entity cache on the cache Redis (CACHE_REDIS_URL, never the state
 * store): one hash per entity (`<prefix><Type>:<key JSON>`), one field per variant, so a change
 * drops every subgraph's and every caller's entries for an entity with one DEL.
 *
 * A cache must never cost a request more than a miss: commands time out quickly, nothing queues
 * while disconnected, and after a failure Redis is left alone for `restMs` (every lookup a miss,
 * at no cost) before it is tried again. Drops that fail are kept and sent again once Redis is back.
 */
import Redis from 'ioredis';
import type { Logger } from '@trellis/kit';

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
  private readonly client: Redis;
  private restingUntil = 0;
  private readonly pendingDrops = new Set<string>();
  private isDown = false;
  private retrying = false;
  private retryTimer?: NodeJS.Timeout;

  constructor(private readonly options: RedisTierOptions) {
    this.client = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(100 * attempt, 1000),
      connectionName: 'trellis-gateway-entity-cache',
    });
    this.client.on('error', (error: Error) => this.failed(error));
    this.client.on('ready', () => this.succeeded());
  }

  /** Each entity's value for its variant (null: none); undefined when Redis cannot be asked now. */
  async getMany(lookups: ReadonlyArray<{ entity: string; variant: string }>): Promise<Array<string | null> | undefined> {
    if (!this.isAvailable()) return undefined;
    const pipeline = this.client.pipeline();
    for (const { entity, variant } of lookups) pipeline.hget(this.options.prefix + entity, variant);
    try {
      const answers = (await pipeline.exec()) ?? [];
      // A pipeline resolves with each command's own error (a timeout among them): any is a failure of Redis.
      const failure = answers.find(([error]) => error)?.[0];
      if (failure || answers.length !== lookups.length) throw failure ?? new Error('a pipeline answered short');
      this.succeeded();
      // A drop still waiting for Redis: what Redis holds for that entity may be what it dropped.
      return lookups.map((lookup, index) => {
        const value = answers[index][1];
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
      const answers = (await this.client.multi().hset(key, variant, value).pexpire(key, ttlMs, 'NX').pexpire(key, ttlMs, 'GT').exec()) ?? [];
      const failure = answers.find(([error]) => error)?.[0];
      if (failure) throw failure;
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
      const value = await this.client.get(this.options.prefix + ROOT + key);
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
    const transaction = this.client.multi().set(prefix + ROOT + key, value, 'PX', ttlMs);
    for (const entity of held) transaction.hset(prefix + entity, ROOT + key, '1').pexpire(prefix + entity, ttlMs, 'NX').pexpire(prefix + entity, ttlMs, 'GT');
    try {
      const answers = (await transaction.exec()) ?? [];
      const failure = answers.find(([error]) => error)?.[0];
      if (failure) throw failure;
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
