/**
 * The Kafka event bus. `createKafkaEventBus` picks the client (`KAFKA_CLIENT`); every client keeps
 * the same `EventBus` contract (test/integration/contracts/eventBus.test.ts runs it on each).
 */
import type { EventBus } from '../types';
import { KafkaEventBus } from './kafkajs/bus';
import { PlatformaticKafkaEventBus } from './platformatic/bus';
import type { KafkaClientName, KafkaEventBusOptions } from './options';

export { KafkaEventBus } from './kafkajs/bus';
export { KAFKA_CLIENTS, type KafkaClientName, type KafkaEventBusOptions } from './options';

export function createKafkaEventBus(options: KafkaEventBusOptions & { client?: KafkaClientName }): EventBus {
  switch (options.client ?? 'kafkajs') {
    case 'kafkajs':
      return new KafkaEventBus(options);
    case 'platformatic':
      return new PlatformaticKafkaEventBus(options);
  }
}
