/**
 * The Kafka event bus on kafkajs: topics through the admin client, publishes through one
 * idempotent producer, and a consumer per subscription.
 */
import type { Producer } from 'kafkajs';
import type { EventBus, OutgoingMessage, SubscribeOptions, Subscription } from '../../types';
import { namespaced } from '../names';
import type { KafkaEventBusOptions } from '../options';
import { KafkaMetrics } from '../metrics';
import { CoalescingPublisher } from '../publisher';
import { KafkajsAccess } from './access';
import { kafkajsClient } from './client';
import { KafkajsConsumers } from './consumer';
import { kafkajsProducer } from './producer';
import { countingRequests } from './requests';
import { KafkajsTopics } from './topics';

export class KafkaEventBus implements EventBus {
  private readonly topics: KafkajsTopics;
  private readonly publisher: CoalescingPublisher<Producer>;
  private readonly consumers: KafkajsConsumers;
  private readonly access: KafkajsAccess;

  constructor(options: KafkaEventBusOptions) {
    const metrics = options.registry && new KafkaMetrics(options.registry);
    const kafka = metrics ? countingRequests(kafkajsClient(options), metrics) : kafkajsClient(options);
    this.access = new KafkajsAccess(options);
    const names = namespaced(options.namespace);
    this.topics = new KafkajsTopics(kafka, names, options);
    this.publisher = new CoalescingPublisher(kafkajsProducer(kafka), names, options, metrics);
    this.consumers = new KafkajsConsumers(kafka, names, options, (topic, message) => this.publisher.publish(topic, message));
  }

  // Each first asks whether a secured cluster accepts this client at all (access.ts): a refusal is
  // reported in a second instead of after a minute of retries.
  async ensureTopics(topics: string[]): Promise<void> {
    await this.access.verify();
    return this.topics.ensure(topics);
  }

  async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    await this.access.verify();
    return this.publisher.publish(topic, messages);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    await this.access.verify();
    return this.consumers.subscribe(options);
  }

  async close(): Promise<void> {
    await this.consumers.close();
    await this.publisher.close();
  }
}
