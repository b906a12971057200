export * from './types';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './memory';
export { KafkaEventBus, type KafkaEventBusOptions } from './kafka';
export { replayDeadLetters, type ReplayOptions } from './replay';
export { partitionOf } from './memory';
export { tracedEventBus } from './traced';
