/**
 * The Kafka event bus. `createKafkaEventBus` picks the client (`KAFKA_CLIENT`); every client keeps
 * the same `EventBus` contract (test/integration/contracts/eventBus.test.ts runs it on each).
 */
import type { EventBus } from '../types';
import { KafkaEventBus } from './kafkajs/bus';
import type { KafkaClientName, KafkaEventBusOptions } from './options';

export { KafkaEventBus } from './kafkajs/bus';
export { KAFKA_CLIENTS, type KafkaClientName, type KafkaEventBusOptions } from './options';

export function createKafkaEventBus(options: KafkaEventBusOptions & { client?: KafkaClientName }): EventBus {
  switch (options.client ?? 'kafkajs') {
    case 'kafkajs':
      return new KafkaEventBus(options);
    case 'platformatic': {
      // Loaded only when chosen: @platformatic/kafka takes about a second to load, which every
      // process on the default client would otherwise pay at start-up (platformaticLazyLoad.test.ts).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { PlatformaticKafkaEventBus } = require('./platformatic/bus') as typeof import('./platformatic/bus');
      return new PlatformaticKafkaEventBus(options);
    }
  }
}
