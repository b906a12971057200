/** Where the real test servers are (test/stack defaults, or the user's own via the usual variables). */
import { randomUUID } from 'node:crypto';

export const realBackends = {
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  kafkaBrokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((broker) => broker.trim()),
  consulUrl: process.env.CONSUL_HTTP_ADDR || 'http://127.0.0.1:8500',
};

/** A unique prefix so tests sharing one server never see each other's keys, topics or services. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}`;
}
