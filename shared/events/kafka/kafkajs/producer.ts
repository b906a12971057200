/**
 * The kafkajs producer behind the publisher (../publisher.ts): idempotent, acks from all in-sync
 * replicas, a coalesced batch sent as one `sendBatch`.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { ProducerDriver } from '../publisher';

export function kafkajsProducer(kafka: Kafka): ProducerDriver<Producer> {
  return {
    async open() {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: true });
      await producer.connect();
      return producer;
    },
    send: (producer, batch) =>
      producer.sendBatch({
        acks: -1,
        topicMessages: batch.map(({ topic, messages }) => ({
          topic,
          messages: messages.map((message) => ({ key: message.key ?? null, value: message.value, headers: message.headers ?? {} })),
        })),
      }),
    // kafkajs's disconnect does not wait for requests in flight, stuck or not.
    close: (producer) => producer.disconnect(),
  };
}
