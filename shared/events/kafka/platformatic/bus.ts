/**
 * The Kafka event bus on @platformatic/kafka (a maintained, pure-JS client): topics through its
 * admin client, publishes through one idempotent producer, a consumer-group member per subscription.
 */
import { BackendUnavailableError, errorMessage } from '../../../errors';
import { retry } from '../../../retry';
import type { EventBus, OutgoingMessage, SubscribeOptions, Subscription } from '../../types';
import { namespaced, type Namespaced } from '../names';
import { KafkaMetrics } from '../metrics';
import { TOPIC_ATTEMPTS, type KafkaEventBusOptions } from '../options';
import { CoalescingPublisher } from '../publisher';
import { platformaticProducer, type StringProducer } from './producer';
import { PlatformaticSubscription } from './subscription';
import { PlatformaticTopics } from './topics';

export class PlatformaticKafkaEventBus implements EventBus {
  private readonly names: Namespaced;
  private readonly topics: PlatformaticTopics;
  private readonly publisher: CoalescingPublisher<StringProducer>;
  private readonly subscriptions = new Set<PlatformaticSubscription>();

  constructor(private readonly options: KafkaEventBusOptions) {
    this.names = namespaced(options.namespace);
    this.topics = new PlatformaticTopics(this.names, options);
    this.publisher = new CoalescingPublisher(platformaticProducer(options), this.names, options, options.registry && new KafkaMetrics(options.registry));
  }

  ensureTopics(topics: string[]): Promise<void> {
    return this.topics.ensure(topics);
  }

  publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    return this.publisher.publish(topic, messages);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    // Right after several processes create the same topics the broker's metadata can lag: a few
    // attempts with backoff instead of a failed start.
    const subscription = await retry(() => this.join(options), {
      maxAttempts: TOPIC_ATTEMPTS,
      policy: { initialDelayMs: 250, maxDelayMs: 2000 },
      shouldRetry: () => true,
      onRetry: (error, attempt) => this.options.logger?.warn({ groupId: options.groupId, attempt, err: errorMessage(error) }, 'subscribe failed; retrying'),
    }).catch((error) => {
      throw new BackendUnavailableError('kafka', `cannot subscribe to ${options.topics.join(', ')}: ${errorMessage(error)}`, error);
    });
    this.subscriptions.add(subscription);
    return {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
    await this.publisher.close();
  }

  private async join(options: SubscribeOptions): Promise<PlatformaticSubscription> {
    const subscription = new PlatformaticSubscription(this.names, this.options, options, (topic, message) => this.publisher.publish(topic, message));
    await subscription.start();
    return subscription;
  }
}
