/** Counts every request the producers, consumers and admin clients of a kafkajs client send, by API, from kafkajs's instrumentation events. */
import type { Kafka } from 'kafkajs';
import type { KafkaMetrics } from '../metrics';

/** The same client, whose producers, consumers and admins report each request to `metrics`. */
export function countingRequests(kafka: Kafka, metrics: KafkaMetrics): Kafka {
  const count = ({ payload }: { payload: { apiName: string } }) => metrics.request(payload.apiName);
  const counted: Kafka = Object.create(kafka) as Kafka;
  counted.producer = (config) => {
    const producer = kafka.producer(config);
    producer.on(producer.events.REQUEST, count);
    return producer;
  };
  counted.consumer = (config) => {
    const consumer = kafka.consumer(config);
    consumer.on(consumer.events.REQUEST, count);
    return consumer;
  };
  counted.admin = (config) => {
    const admin = kafka.admin(config);
    admin.on(admin.events.REQUEST, count);
    return admin;
  };
  return counted;
}
