/**
 * Publishing with kafkajs: an idempotent producer acknowledged by all in-sync replicas. Publishes
 * ready together go out in one request (the coalescer), each bounded in time for its caller; a
 * producer that let a request time out is replaced.
 */
import type { Kafka, Producer } from 'kafkajs';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import type { OutgoingMessage } from '../../types';
import { ProduceCoalescer, type TopicMessages } from '../coalescer';
import type { KafkaMetrics } from '../metrics';
import type { Namespaced } from '../names';
import { LINGER_MS, PUBLISH_TIMEOUT_MS, type KafkaEventBusOptions } from '../options';
import { TimedOut, withTimeout } from '../timeout';

export class KafkajsPublisher {
  private producer?: Promise<Producer>;
  private readonly coalescer: ProduceCoalescer;

  constructor(
    private readonly kafka: Kafka,
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
    private readonly metrics?: KafkaMetrics,
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

  /** Sends what is queued, then disconnects. */
  async close(): Promise<void> {
    await this.coalescer.flush();
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  /** One request for a coalesced batch, bounded so a stuck producer frees the coalescer for the next one. */
  private async send(batch: TopicMessages[]): Promise<void> {
    const producer = this.connected();
    const sending = producer.then((connected) =>
      connected.sendBatch({
        acks: -1,
        topicMessages: batch.map(({ topic, messages }) => ({
          topic,
          messages: messages.map((message) => ({ key: message.key ?? null, value: message.value, headers: message.headers ?? {} })),
        })),
      }),
    );
    // A send given up on below may still settle later: never as an unhandled rejection.
    sending.catch(() => undefined);
    const timeoutMs = this.timeoutMs();
    try {
      await withTimeout(sending.then(() => undefined), timeoutMs, `no acknowledgement within ${timeoutMs} ms`);
      this.metrics?.producedMessages(batch.reduce((sum, { messages }) => sum + messages.length, 0));
    } catch (error) {
      if (error instanceof TimedOut) this.replace(producer);
      throw error;
    }
  }

  private timeoutMs(): number {
    return this.options.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
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
