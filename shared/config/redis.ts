/**
 * Where the state store's Redis is and how durable its writes are: exactly one of REDIS_URL,
 * REDIS_SENTINELS (+ REDIS_SENTINEL_NAME) and REDIS_CLUSTER_NODES, and REDIS_MIN_REPLICAS_ACK.
 * Two topologies at once, a Sentinel set without its master name, or a replica wait longer than a
 * command may take stop start-up naming the variables.
 */
import { z } from 'zod';
import { ConfigError } from '../errors';
import { parseRedisAddresses, type RedisTopology } from '../state/redisConnection';

const addresses = z
  .string()
  .optional()
  .superRefine((value, ctx) => {
    if (value === undefined) return;
    try {
      if (parseRedisAddresses(value).length === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a comma list of host:port' });
    } catch (error) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${(error as Error).message}; a comma list of host:port` });
    }
  });

/** The variables, merged into the config schema (index.ts). REDIS_URL stays there, beside the other backends. */
export const redisEnvShape = {
  /** Sentinels that know the state store's primary: `host:port,host:port`. */
  REDIS_SENTINELS: addresses,
  /** The master name the Sentinels monitor (`sentinel monitor <name> ...`). */
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  /** The Sentinels' own password (`requirepass` on the Sentinels), if they have one. */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** Some nodes of a Redis Cluster (`host:port,...`); the rest are found from them. */
  REDIS_CLUSTER_NODES: addresses,
  /** Replicas that must have every saga and dedupe write before it is acknowledged (Redis WAIT); 0: none. */
  REDIS_MIN_REPLICAS_ACK: z.coerce.number().int().min(0).max(16).default(0),
  /** How long a write waits for those replicas before it fails. */
  REDIS_REPLICA_ACK_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(1000),
  /** Shards of the saga due-time index (a saga's keys share its shard's hash tag): the same on every sagas instance of one store. */
  SAGA_DUE_SHARDS: z.coerce.number().int().min(1).max(1024).default(16),
};

type RedisEnv = z.infer<z.ZodObject<typeof redisEnvShape>> & { REDIS_URL?: string; REDIS_COMMAND_TIMEOUT_MS: number; REDIS_KEY_PREFIX: string };

export interface RedisSettings {
  commandTimeoutMs: number;
  keyPrefix: string;
  /** Undefined: no Redis configured (the state store is embedded). */
  topology?: RedisTopology;
  /** Every write waits for this many replicas, for at most `timeoutMs`. */
  replicaAck: { minReplicas: number; timeoutMs: number };
}

export function redisSettings(e: RedisEnv): RedisSettings {
  const given = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((name) => e[name] !== undefined);
  if (given.length > 1) {
    throw new ConfigError(`Invalid configuration: ${given.join(' and ')} are both set; the state store runs on one Redis topology, set only one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES`);
  }
  if (e.REDIS_SENTINELS !== undefined && e.REDIS_SENTINEL_NAME === undefined) {
    throw new ConfigError('Invalid configuration: REDIS_SENTINELS needs REDIS_SENTINEL_NAME, the master name the Sentinels monitor');
  }
  if (e.REDIS_MIN_REPLICAS_ACK > 0 && e.REDIS_REPLICA_ACK_TIMEOUT_MS >= e.REDIS_COMMAND_TIMEOUT_MS) {
    throw new ConfigError(
      `Invalid configuration: REDIS_REPLICA_ACK_TIMEOUT_MS=${e.REDIS_REPLICA_ACK_TIMEOUT_MS} must be below REDIS_COMMAND_TIMEOUT_MS=${e.REDIS_COMMAND_TIMEOUT_MS}, or the command times out before its replicas answer`,
    );
  }
  return {
    commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    keyPrefix: e.REDIS_KEY_PREFIX,
    topology: topologyOf(e),
    replicaAck: { minReplicas: e.REDIS_MIN_REPLICAS_ACK, timeoutMs: e.REDIS_REPLICA_ACK_TIMEOUT_MS },
  };
}

function topologyOf(e: RedisEnv): RedisTopology | undefined {
  if (e.REDIS_URL) return { kind: 'standalone', url: e.REDIS_URL };
  if (e.REDIS_SENTINELS) {
    return { kind: 'sentinel', sentinels: parseRedisAddresses(e.REDIS_SENTINELS), name: e.REDIS_SENTINEL_NAME as string, sentinelPassword: e.REDIS_SENTINEL_PASSWORD };
  }
  if (e.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: parseRedisAddresses(e.REDIS_CLUSTER_NODES) };
  return undefined;
}
