/**
 * Where the real test servers are (test/stack defaults, or the user's own via the usual variables).
 * Kafka goes through the platform's own config, so `set -a; source test/stack/cluster.env` puts
 * every test that uses the shared broker on the secured 3-broker cluster (TLS, SASL, replication).
 */
import { randomUUID } from 'node:crypto';
import { loadConfig, type Env } from '@trellis/kit/internal/config';
import { kafkaEventBusOptions, type KafkaBusSettings } from '@trellis/kit/internal/backends/kafka';

/** The KAFKA_* variables of `env` alone, so the rest of a test's environment cannot make this config fail. */
export function kafkaVariables(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('KAFKA_')));
}

const kafkaConfig = loadConfig({ ...kafkaVariables(process.env), KAFKA_BROKERS: process.env.KAFKA_BROKERS || '127.0.0.1:9092' });

export const realBackends = {
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  kafkaBrokers: kafkaConfig.backends.kafkaBrokers,
  /** What a test's own bus needs to reach the shared Kafka: brokers, client, TLS, SASL, topic settings (add clientId, namespace). */
  kafka: kafkaEventBusOptions(kafkaConfig),
  consulUrl: process.env.CONSUL_HTTP_ADDR || 'http://127.0.0.1:8500',
};

/** The shared Kafka's settings when `brokers` are the shared ones; a private broker (failure tests) speaks plaintext. */
export function kafkaOptionsFor(brokers: string[]): KafkaBusSettings {
  const shared = brokers.join(',') === realBackends.kafkaBrokers.join(',');
  return shared ? realBackends.kafka : { client: realBackends.kafka.client, brokers };
}

/** A unique prefix so tests sharing one server never see each other's keys, topics or services. */
export function uniquePrefix(label: string): string {
  return `t-${label}-${randomUUID().slice(0, 8)}`;
}
