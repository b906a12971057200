/**
 * Publishing, whichever client: publishes ready together go out in one request (the coalescer),
 * each bounded in time for its caller, acknowledged by all in-sync replicas; a producer that let a
 * request time out is replaced (the next publish opens a new one). A client supplies only how to
 * open, use and close its producer (`ProducerDriver`: kafkajs/producer.ts, platformatic/producer.ts).
 */
import { BackendUnavailableError, errorMessage } from '../../errors';
import type { OutgoingMessage } from '../types';
import { ProduceCoalescer, type TopicMessages } from './coalescer';
import type { KafkaMetrics } from './metrics';
import type { Namespaced } from './names';
import { LINGER_MS, PUBLISH_TIMEOUT_MS, type KafkaEventBusOptions } from './options';
import { TimedOut, withTimeout } from './timeout';

export type { TopicMessages } from './coalescer';

/** One client's producer: idempotent, acks from all in-sync replicas. */
export interface ProducerDriver<P> {
  /** A new producer, ready to send (a client that connects lazily resolves at once). */
  open(): Promise<P>;
  /** One produce request carrying the whole batch. */
  send(producer: P, batch: TopicMessages[]): Promise<unknown>;
  /** Closes a producer; `stuck`: it let a request time out, so what it still holds is abandoned. */
  close(producer: P, stuck: boolean): Promise<unknown>;
}

export class CoalescingPublisher<P> {
  private producer?: Promise<P>;
  private readonly coalescer: ProduceCoalescer;
  private readonly timeoutMs: number;

  constructor(
    private readonly driver: ProducerDriver<P>,
    private readonly names: Namespaced,
    options: KafkaEventBusOptions,
    private readonly metrics?: KafkaMetrics,
  ) {
    this.timeoutMs = options.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
    this.coalescer = new ProduceCoalescer((batch) => this.send(batch), {
      lingerMs: options.lingerMs ?? LINGER_MS,
      timeoutMs: this.timeoutMs,
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
    const producer = await this.producer?.catch(() => undefined);
    this.producer = undefined;
    if (producer !== undefined) await this.driver.close(producer, false).catch(() => undefined);
  }

  /** One request for a coalesced batch, bounded so a stuck producer frees the coalescer for the next one. */
  private async send(batch: TopicMessages[]): Promise<void> {
    const producer = this.current();
    const sending = producer.then((ready) => this.driver.send(ready, batch));
    // A send given up on below may still settle later: never as an unhandled rejection.
    sending.catch(() => undefined);
    try {
      await withTimeout(sending.then(() => undefined), this.timeoutMs, `no acknowledgement within ${this.timeoutMs} ms`);
      this.metrics?.producedMessages(batch.reduce((sum, { messages }) => sum + messages.length, 0));
    } catch (error) {
      if (error instanceof TimedOut) this.replace(producer);
      throw error;
    }
  }

  /** Drops a producer that let a publish time out and closes it in the background. */
  private replace(stuck: Promise<P>): void {
    if (this.producer !== stuck) return;
    this.producer = undefined;
    void stuck.then((producer) => this.driver.close(producer, true)).catch(() => undefined);
  }

  private current(): Promise<P> {
    if (!this.producer) {
      const opening = this.driver.open();
      this.producer = opening;
      // A producer that could not connect is forgotten: the next publish tries a new one.
      opening.catch(() => {
        if (this.producer === opening) this.producer = undefined;
      });
    }
    return this.producer;
  }
}
