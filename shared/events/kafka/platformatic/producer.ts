/**
 * Publishing with @platformatic/kafka: one idempotent producer acknowledged by all in-sync
 * replicas. Its idempotent producer keeps one request in flight per broker, so publishes ready
 * together go out in one request (the coalescer), each bounded in time for its caller; a producer
 * that let a request time out is replaced.
 */
import { compatibilityPartitioner, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import type { OutgoingMessage } from '../../types';
import { ProduceCoalescer, type TopicMessages } from '../coalescer';
import type { Namespaced } from '../names';
import { LINGER_MS, PUBLISH_TIMEOUT_MS, type KafkaEventBusOptions } from '../options';
import { TimedOut, withTimeout } from '../timeout';
import { platformaticBaseOptions } from './client';

type StringProducer = Producer<string, string, string, string>;

export class PlatformaticPublisher {
  private producer?: StringProducer;
  private readonly coalescer: ProduceCoalescer;

  constructor(
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
  ) {
    this.coalescer = new ProduceCoalescer((batch) => this.send(batch), {
      lingerMs: options.lingerMs ?? LINGER_MS,
      timeoutMs: this.timeoutMs(),
      timers: options.clock,
    });
  }

  async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    try {
      await this.coalescer.publish(this.names.onBroker(topic), Array.isArray(messages) ? messages : [messages]);
    } catch (error) {
      throw new BackendUnavailableError('kafka', `publish to ${topic} failed: ${errorMessage(error)}`, error);
    }
  }

  /** Sends what is queued, then closes the producer. */
  async close(): Promise<void> {
    await this.coalescer.flush();
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close().catch(() => undefined);
  }

  /** One request for a coalesced batch, bounded so a stuck producer frees the coalescer for the next one. */
  private async send(batch: TopicMessages[]): Promise<void> {
    const producer = this.current();
    const sending = producer.send({
      messages: batch.flatMap(({ topic, messages }) =>
        messages.map((message) => ({ topic, key: message.key, value: message.value, headers: message.headers ?? {} })),
      ),
    });
    // A send given up on below may still settle later: never as an unhandled rejection.
    sending.catch(() => undefined);
    const timeoutMs = this.timeoutMs();
    try {
      await withTimeout(
        sending.then(() => undefined),
        timeoutMs,
        `no acknowledgement within ${timeoutMs} ms`,
      );
    } catch (error) {
      if (error instanceof TimedOut) this.replace(producer);
      throw error;
    }
  }

  private timeoutMs(): number {
    return this.options.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
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
