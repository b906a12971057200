export * from './types';
export { InMemoryStateStore, type InMemoryStateStoreOptions } from './memory';
