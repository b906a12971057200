export * from './types';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './memory';
export { createKafkaEventBus, KafkaEventBus, KAFKA_CLIENTS, type KafkaClientName, type KafkaEventBusOptions } from './kafka';
export { replayDeadLetters, type ReplayOptions } from './replay';
export { partitionOf } from './memory';
export { tracedEventBus } from './traced';
export { ENTITY_CHANGES_TOPIC, encodeEntityChange, decodeEntityChange, entityChangeKey, sortedKey, type EntityChange } from './entityChange';
export { createChangeAnnouncer, InvalidEntityChangeError, ANNOUNCE_RETRY_MS, type AnnounceChange, type ChangeAnnouncement, type ChangeAnnouncerOptions } from './changeAnnouncer';
