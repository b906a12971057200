export * from './types';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './memory';
