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
      this.succeeded();
      return lookups.map((lookup, index) => {
        const [error, value] = answers[index] ?? [new Error('no answer'), null];
        // A drop still waiting for Redis: what Redis holds for that entity may be what it dropped.
        if (error || this.pendingDrops.has(lookup.entity)) return null;
        return typeof value === 'string' ? value : null;
      });
    } catch (error) {
      this.failed(error as Error, 'read');
      return undefined;
    }
  }

  /** Stores one value; the entity's hash lives as long as its newest entry (each entry knows its own expiry). */
  async set(entity: string, variant: string, value: string, ttlMs: number): Promise<void> {
    if (!this.isAvailable() || this.pendingDrops.has(entity)) return;
    const key = this.options.prefix + entity;
    try {
      await this.client.multi().hset(key, variant, value).pexpire(key, ttlMs).exec();
      this.succeeded();
    } catch (error) {
      this.failed(error as Error, 'write');
    }
  }

  /** Drops every entry of the entity; kept and sent again when Redis cannot take it now. */
  async drop(entity: string): Promise<void> {
    try {
      if (!this.isAvailable()) throw new Error('the entity cache Redis is unavailable');
      await this.client.del(this.options.prefix + entity);
      this.pendingDrops.delete(entity);
    } catch (error) {
      this.keepDrop(entity);
      this.failed(error as Error, 'drop');
    }
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }

  private keepDrop(entity: string): void {
    const max = this.options.maxPendingDrops ?? 100_000;
    // Past the bound the oldest is forgotten; its entry still ends at its TTL.
    if (this.pendingDrops.size >= max) this.pendingDrops.delete(this.pendingDrops.values().next().value as string);
    this.pendingDrops.add(entity);
  }

  private async retryDrops(): Promise<void> {
    for (const entity of [...this.pendingDrops]) {
      await this.drop(entity);
      if (!this.isAvailable()) return;
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
    if (this.pendingDrops.size > 0 && !this.retrying) {
      this.retrying = true;
      void this.retryDrops().finally(() => (this.retrying = false));
    }
  }

  private failed(error: Error, operation?: 'read' | 'write' | 'drop'): void {
    this.restingUntil = this.options.now() + (this.options.restMs ?? 1000);
    if (operation) this.options.onError?.(operation);
    if (!this.isDown) this.options.logger.warn({ err: error }, 'entity cache Redis failed: lookups are misses until it answers again');
    this.isDown = true;
  }
}
