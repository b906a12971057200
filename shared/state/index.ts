export * from './types';
export { InMemoryStateStore, type InMemoryStateStoreOptions } from './memory';
export { RedisStateStore, type RedisStateStoreOptions } from './redis';
export { tracedStateStore, STATE_ATTRIBUTES, type TracedStateOptions } from './traced';
export { createRedisConnection, parseRedisAddresses, type RedisAddress, type RedisTopology } from './redisConnection';
export { CrossSlotError } from './redisSlots';
export { ReplicaAckTimeoutError, REPLICA_ACK_TIMEOUTS_METRIC, type ReplicaAckOptions } from './redisDurability';
