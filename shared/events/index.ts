export * from './types';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './memory';
export { createKafkaEventBus, KafkaEventBus, KAFKA_CLIENTS, type KafkaClientName, type KafkaEventBusOptions } from './kafka';
export { replayDeadLetters, type ReplayOptions } from './replay';
export { partitionOf } from './memory';
export { tracedEventBus } from './traced';
