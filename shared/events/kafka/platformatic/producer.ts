/**
 * Publishing with @platformatic/kafka: one idempotent producer acknowledged by all in-sync
 * replicas, each publish bounded in time; a producer that let a publish time out is replaced.
 */
import { compatibilityPartitioner, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import type { OutgoingMessage } from '../../types';
import type { Namespaced } from '../names';
import { PUBLISH_TIMEOUT_MS, type KafkaEventBusOptions } from '../options';
import { TimedOut, withTimeout } from '../timeout';
import { platformaticBaseOptions } from './client';

export type StringProducer = Producer<string, string, string, string>;

export class PlatformaticPublisher {
  private producer?: StringProducer;

  constructor(
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
  ) {}

  async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    const batch = Array.isArray(messages) ? messages : [messages];
    const producer = this.current();
    const onBroker = this.names.onBroker(topic);
    const sending = producer.send({
      messages: batch.map((message) => ({ topic: onBroker, key: message.key, value: message.value, headers: message.headers ?? {} })),
    });
    // A send given up on below may still settle later: never as an unhandled rejection.
    sending.catch(() => undefined);
    const timeoutMs = this.options.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
    try {
      await withTimeout(
        sending.then(() => undefined),
        timeoutMs,
        `no acknowledgement within ${timeoutMs} ms`,
      );
    } catch (error) {
      if (error instanceof TimedOut) this.replace(producer);
      throw new BackendUnavailableError('kafka', `publish to ${topic} failed: ${errorMessage(error)}`, error);
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close().catch(() => undefined);
  }

  /** Drops a producer that let a publish time out (the next publish makes a new one) and closes it in the background. */
  private replace(stuck: StringProducer): void {
    if (this.producer !== stuck) return;
    this.producer = undefined;
    void stuck.close(true).catch(() => undefined);
  }

  private current(): StringProducer {
    if (!this.producer) {
      this.producer = new Producer({
        ...platformaticBaseOptions(this.options),
        idempotent: true,
        acks: ProduceAcks.ALL,
        // The Java client's (and kafkajs's) murmur2: a key lands on the same partition whichever client wrote it.
        partitioner: compatibilityPartitioner,
        serializers: stringSerializers,
      });
      this.producer.on('error', (error: unknown) => this.options.logger?.warn({ err: errorMessage(error) }, 'kafka producer error'));
    }
    return this.producer;
  }
}
