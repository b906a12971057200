/**
 * Builds the ioredis client of a Redis topology: one standalone server, a primary found through
 * Sentinel, or a Cluster. The state store runs the same commands and scripts on any of them; what
 * differs (how a failover or a moved slot is followed) is ioredis's job, set up here.
 */
import Redis, { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface RedisAddress {
  host: string;
  port: number;
}

/** Where the state store's Redis is: exactly one of the three (REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES). */
export type RedisTopology =
  | { kind: 'standalone'; url: string }
  | { kind: 'sentinel'; sentinels: RedisAddress[]; name: string; sentinelPassword?: string; password?: string }
  | { kind: 'cluster'; nodes: RedisAddress[]; password?: string };

export interface RedisConnectionOptions {
  /** A command with no answer after this long fails. */
  commandTimeoutMs: number;
  /** Shown in CLIENT LIST, so an operator sees who holds a connection. */
  connectionName: string;
  /**
   * A connection only for SUBSCRIBE: no ready check. ioredis writes a SUBSCRIBE made while it
   * connects at once, before its ready check's INFO, which a subscribed connection refuses; the
   * failed check then failed every command queued with it, and reconnected.
   */
  subscriber?: boolean;
}

export type RedisClient = Redis | Cluster;

/** Parses `host:port,host:port` (REDIS_SENTINELS, REDIS_CLUSTER_NODES); throws naming the bad entry. */
export function parseRedisAddresses(list: string): RedisAddress[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(entry);
      const port = match ? Number(match[2]) : NaN;
      if (!match || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port`);
      return { host: match[1].replace(/^\[|\]$/g, ''), port };
    });
}

export function createRedisConnection(topology: RedisTopology, options: RedisConnectionOptions): RedisClient {
  const common: RedisOptions = {
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    connectionName: options.connectionName,
    // A primary demoted by a failover answers writes with READONLY: reconnect, which asks the
    // Sentinels (or the cluster) again for the current primary, and resend the command there.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    ...(options.subscriber ? { enableReadyCheck: false } : {}),
  };
  if (topology.kind === 'standalone') return new Redis(topology.url, common);
  if (topology.kind === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: topology.sentinels,
      name: topology.name,
      sentinelPassword: topology.sentinelPassword,
      password: topology.password,
      // Subscribes to the Sentinels' +switch-master: a failover is followed when announced, not
      // only when the old primary's socket finally closes.
      failoverDetector: true,
      sentinelRetryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      // A hung Sentinel (it accepts, answers nothing) would hold the search for the primary for ever.
      sentinelCommandTimeout: options.commandTimeoutMs,
    });
  }
  const { retryStrategy: _perNode, enableOfflineQueue: _queue, ...perNode } = common;
  const cluster: ClusterOptions = {
    redisOptions: { ...perNode, password: topology.password },
    enableOfflineQueue: true,
    clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    // MOVED and ASK are followed at once (a slot map refresh comes with MOVED); TRYAGAIN (a
    // multi-key command during a resharding) and a node lost in a failover wait a little first.
    retryDelayOnTryAgain: 100,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    maxRedirections: 16,
    slotsRefreshTimeout: 2000,
  };
  return new Cluster(topology.nodes, cluster);
}

/**
 * Connects `client` again whenever it ends while `isClosed()` is false. ioredis (5.11) keeps the
 * failover detector of a Sentinel connection that died; when its `+switch-master` arrives while the
 * client is asking a Sentinel for the primary anew, the connect is abandoned and the client ends for
 * good, failing every later command though Redis is healthy (test/integration/state/sentinelReconnect.test.ts).
 * `onEnded` hears of each such end.
 */
export function reconnectWhenEnded(client: RedisClient, isClosed: () => boolean, onEnded: () => void, delayMs = 200): void {
  client.on('end', () => {
    if (isClosed()) return;
    onEnded();
    setTimeout(() => {
      if (!isClosed() && client.status === 'end') client.connect().catch(() => undefined);
    }, delayMs).unref();
  });
}

/** Whether the client talks to a Redis Cluster, where every script must stay in one hash slot. */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
