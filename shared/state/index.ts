export * from './types';
export { InMemoryStateStore, type InMemoryStateStoreOptions } from './memory';
export { RedisStateStore, type RedisStateStoreOptions } from './redis';
