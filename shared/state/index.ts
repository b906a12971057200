export * from './types';
export { InMemoryStateStore, type InMemoryStateStoreOptions } from './memory';
export { RedisStateStore, type RedisStateStoreOptions } from './redis';
export { tracedStateStore, STATE_ATTRIBUTES, type TracedStateOptions } from './traced';
