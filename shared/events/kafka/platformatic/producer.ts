/**
 * The @platformatic/kafka producer behind the publisher (../publisher.ts): idempotent, acks from
 * all in-sync replicas, keys on the partitions kafkajs and the Java client pick. Its idempotent
 * producer keeps one request in flight per broker, which is why coalescing matters most here.
 */
import { compatibilityPartitioner, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { errorMessage } from '../../../errors';
import type { KafkaEventBusOptions } from '../options';
import type { ProducerDriver } from '../publisher';
import { platformaticBaseOptions } from './client';

export type StringProducer = Producer<string, string, string, string>;

export function platformaticProducer(options: KafkaEventBusOptions): ProducerDriver<StringProducer> {
  return {
    // It connects on its first send.
    async open() {
      const producer = new Producer({
        ...platformaticBaseOptions(options),
        idempotent: true,
        acks: ProduceAcks.ALL,
        // The Java client's (and kafkajs's) murmur2: a key lands on the same partition whichever client wrote it.
        partitioner: compatibilityPartitioner,
        serializers: stringSerializers,
      });
      producer.on('error', (error: unknown) => options.logger?.warn({ err: errorMessage(error) }, 'kafka producer error'));
      return producer;
    },
    send: (producer, batch) =>
      producer.send({
        messages: batch.flatMap(({ topic, messages }) =>
          messages.map((message) => ({ topic, key: message.key, value: message.value, headers: message.headers ?? {} })),
        ),
      }),
    close: (producer, stuck) => producer.close(stuck),
  };
}
