/**
 * Publishing with kafkajs: an idempotent producer acknowledged by all in-sync replicas, each
 * publish bounded in time; a producer that let a publish time out is replaced.
 */
import type { Kafka, Producer } from 'kafkajs';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import type { OutgoingMessage } from '../../types';
import type { Namespaced } from '../names';
import { PUBLISH_TIMEOUT_MS, type KafkaEventBusOptions } from '../options';
import { TimedOut, withTimeout } from '../timeout';

export class KafkajsPublisher {
  private producer?: Promise<Producer>;

  constructor(
    private readonly kafka: Kafka,
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
  ) {}

  async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    const batch = Array.isArray(messages) ? messages : [messages];
    const producer = this.connected();
    const sending = producer.then((connected) =>
      connected.send({
        topic: this.names.onBroker(topic),
        acks: -1,
        messages: batch.map((message) => ({ key: message.key ?? null, value: message.value, headers: message.headers ?? {} })),
      }),
    );
    // A send given up on below may still settle later: never as an unhandled rejection.
    sending.catch(() => undefined);
    const timeoutMs = this.options.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
    try {
      await withTimeout(sending.then(() => undefined), timeoutMs, `no acknowledgement within ${timeoutMs} ms`);
    } catch (error) {
      if (error instanceof TimedOut) this.replace(producer);
      throw new BackendUnavailableError('kafka', `publish to ${topic} failed: ${errorMessage(error)}`, error);
    }
  }

  async close(): Promise<void> {
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  /** Drops a producer that let a publish time out (the next publish connects a new one) and disconnects it in the background. */
  private replace(stuck: Promise<Producer>): void {
    if (this.producer !== stuck) return;
    this.producer = undefined;
    void stuck.then((producer) => producer.disconnect()).catch(() => undefined);
  }

  private connected(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: true });
      this.producer = producer.connect().then(
        () => producer,
        (error) => {
          this.producer = undefined;
          throw error;
        },
      );
    }
    return this.producer;
  }
}
