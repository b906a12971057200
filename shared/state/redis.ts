/**
 * Redis state store (ioredis) on a standalone Redis, a Sentinel-managed primary or a Cluster
 * (redisConnection.ts). Plain keys are strings; versioned keys are hashes {v, d} changed only by
 * Lua scripts, so compare-and-set is atomic; on Cluster a script's keys must share one slot
 * (redisSlots.ts). A dead Redis fails fast: once connected, commands are refused at once while it
 * reconnects, and a hung connection times out per command. With `replicaAck`, every write waits
 * for that many replicas (redisDurability.ts).
 */
import type { Registry } from 'prom-client';
import type { Counter as PromCounter } from 'prom-client';
import { ReplyError } from 'ioredis';
import { BackendUnavailableError, errorMessage } from '../errors';
import type { Logger } from '../logging';
import type { RateLimiter, RateLimitPolicy } from '../ratelimit/types';
import { redisRateLimiter } from './redisRateLimiter';
import { createRedisConnection, isCluster, type RedisClient, type RedisTopology } from './redisConnection';
import { defineScripts, type ScriptedRedis } from './redisScripts';
import { assertOneSlot } from './redisSlots';
import { replicaAckTimeouts, ReplicaAckTimeoutError, type ReplicaAckOptions } from './redisDurability';
import type { ClaimOptions, Counter, IndexPage, IndexReadOptions, SetOptions, StateStore, Unsubscribe, VersionCheck, VersionedValue, VersionedWrite } from './types';

export interface RedisStateStoreOptions {
  /** A standalone Redis; shorthand for `topology: { kind: 'standalone', url }`. */
  url?: string;
  /** Where Redis is: standalone, Sentinel or Cluster. */
  topology?: RedisTopology;
  logger?: Logger;
  /** A command with no answer after this long fails. */
  commandTimeoutMs?: number;
  /** Commands allowed to wait for the first connection or in flight at once; more fail at once. */
  maxPending?: number;
  /** Prefix for every key and channel (tests isolate themselves with it). */
  keyPrefix?: string;
  /** Every write (set, delete, compare-and-set) resolves only once this many replicas have it (REDIS_MIN_REPLICAS_ACK). */
  replicaAck?: ReplicaAckOptions;
  /** Where writes the replicas did not confirm in time are counted. */
  registry?: Registry;
}

export class RedisStateStore implements StateStore {
  private readonly client: ScriptedRedis;
  private subscriber?: RedisClient;
  private readonly listeners = new Map<string, Set<(message: string) => void>>();
  private pending = 0;
  private everReady = false;
  private lastErrorLog = 0;
  private readonly maxPending: number;
  private readonly prefix: string;
  private readonly topology: RedisTopology;
  private readonly onCluster: boolean;
  private readonly ackTimeouts?: PromCounter;

  constructor(private readonly options: RedisStateStoreOptions) {
    const topology = options.topology ?? (options.url ? { kind: 'standalone' as const, url: options.url } : undefined);
    if (!topology) throw new Error('RedisStateStore needs a url or a topology');
    this.topology = topology;
    this.maxPending = options.maxPending ?? 10_000;
    this.prefix = options.keyPrefix ?? '';
    this.client = defineScripts(this.connect('command'));
    this.onCluster = isCluster(this.client);
    if (options.replicaAck?.minReplicas && options.registry) this.ackTimeouts = replicaAckTimeouts(options.registry);
    this.client.on('ready', () => (this.everReady = true));
  }

  async get(key: string): Promise<string | null> {
    return this.run(() => this.client.get(this.k(key)));
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<void> {
    const name = this.k(key);
    await this.write('set', [name], (target) => (options.ttlMs ? target.set(name, value, 'PX', options.ttlMs) : target.set(name, value)));
  }

  async setIfAbsent(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const name = this.k(key);
    const result = await this.write('setIfAbsent', [name], (target) =>
      options.ttlMs ? target.set(name, value, 'PX', options.ttlMs, 'NX') : target.set(name, value, 'NX'),
    );
    return result === 'OK';
  }

  async delete(key: string): Promise<void> {
    const name = this.k(key);
    await this.write('delete', [name], (target) => target.del(name));
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
   * to Redis at once and answered in one round trip. On Cluster the keys may live on several
   * nodes, which one pipeline cannot reach: there each is its own command, all sent at once.
   */
  async getVersionedMany(keys: readonly string[]): Promise<Array<VersionedValue | null>> {
    if (keys.length === 0) return [];
    const answers: Array<[Error | null, unknown]> = this.onCluster
      ? await Promise.all(keys.map((key) => this.run(() => this.client.hmget(this.k(key), 'v', 'd')).then((fields): [null, unknown] => [null, fields])))
      : ((await this.run(() => keys.reduce((pipeline, key) => pipeline.hmget(this.k(key), 'v', 'd'), this.client.pipeline()).exec())) ?? []);
    return answers.map(([error, fields]) => {
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
      ...writes.map((write) => (write.recent ? this.k(write.recent.index) : this.k(write.key))),
    ];
    const args: Array<string | number> = [writes.length, checks.length];
    for (const write of writes) {
      const due = write.due === undefined ? 0 : write.due.at === null ? 2 : 1;
      const channel = write.announce ? this.k(write.announce.channel) : '';
      const recent = write.recent ? [Math.max(1, Math.floor(write.recent.keep)), write.recent.at] : [0, 0];
      args.push(write.expectedVersion, write.value, write.ttlMs ?? 0, due, write.due?.at ?? 0, write.key, channel, write.announce?.message ?? '', ...recent);
    }
    for (const check of checks) args.push(check.expectedVersion);
    const result = await this.write('compareAndSetMany', keys, (target) => target.trellisCompareAndSetMany(keys.length, ...keys, ...args));
    return Array.isArray(result) ? result.map(Number) : null;
  }

  /** By the server's TIME: `now` (the caller's clock) is not used. */
  async claimDue(index: string, _now: number, options: ClaimOptions): Promise<string[]> {
    return this.run(() => this.client.trellisClaimDue(this.k(index), options.limit, options.leaseMs));
  }

  /** Redis's TIME (on Cluster, the node's that answers; keep the nodes' clocks in sync, as NTP does). */
  async time(): Promise<number> {
    const [seconds, micros] = await this.run(() => this.client.time());
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  async readIndex(index: string, options: IndexReadOptions): Promise<IndexPage> {
    const limit = Math.max(0, Math.floor(options.limit));
    const [size, flat] = await this.run(() => this.client.trellisReadIndex(this.k(index), limit, options.latestFirst ? 1 : 0));
    const entries: IndexPage['entries'] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ key: flat[i], at: Number(flat[i + 1]) });
    return { entries, size: Number(size) };
  }

  /** SCAN over every primary (one on a server, each of them on Cluster). */
  async keys(prefix: string): Promise<string[]> {
    const found: string[] = [];
    const pattern = this.k(prefix).replace(/[*?[\]\\]/g, '\\$&') + '*';
    const nodes = isCluster(this.client) ? this.client.nodes('master') : [this.client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, batch] = await this.run(() => node.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
        cursor = next;
        found.push(...batch.map((key) => key.slice(this.prefix.length)));
      } while (cursor !== '0');
    }
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

  private subscriberConnection(): RedisClient {
    if (!this.subscriber) {
      this.subscriber = this.connect('subscriber');
      // ioredis re-subscribes its channels by itself after a reconnect (and after a failover).
      this.subscriber.on('message', (channel: string, message: string) => {
        for (const listener of this.listeners.get(channel) ?? []) listener(message);
      });
    }
    return this.subscriber;
  }

  private connect(role: string): RedisClient {
    const client = createRedisConnection(this.topology, { commandTimeoutMs: this.options.commandTimeoutMs ?? 2000, connectionName: `trellis-${role}` });
    client.on('error', (error: Error) => {
      // One line every few seconds is enough while Redis is down.
      if (Date.now() - this.lastErrorLog > 5000) {
        this.lastErrorLog = Date.now();
        this.options.logger?.warn({ err: errorMessage(error), role }, 'redis connection error');
      }
    });
    return client;
  }

  /**
   * A write: its keys in one slot on Cluster (else a CrossSlotError names them), and with
   * `replicaAck` sent in one pipeline with a WAIT, resolving only once enough replicas have it.
   */
  private async write<T>(operation: string, keys: string[], queue: (target: ScriptedRedis) => Promise<T>): Promise<T> {
    if (this.onCluster && keys.length > 1) assertOneSlot(operation, keys);
    const ack = this.options.replicaAck;
    if (!ack?.minReplicas) return this.run(() => queue(this.client));
    const answers = await this.run(() => {
      const pipeline = this.client.pipeline();
      void queue(pipeline as unknown as ScriptedRedis);
      return pipeline.wait(ack.minReplicas, ack.timeoutMs).exec();
    });
    const [[writeError, written], [waitError, acked]] = answers as Array<[Error | null, unknown]>;
    const failed = writeError ?? waitError;
    if (failed) throw new BackendUnavailableError('redis', errorMessage(failed), failed);
    if (Number(acked) < ack.minReplicas) {
      this.ackTimeouts?.inc();
      throw new ReplicaAckTimeoutError(Number(acked), ack);
    }
    return written as T;
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
