/** What a Kafka bus built from config gets (shared/backends/kafka.ts): every setting, the PEM files read, SASL as the adapters take it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@trellis/kit/internal/config';
import { kafkaEventBusOptions } from '@trellis/kit/internal/backends/kafka';

const dir = mkdtempSync(path.join(tmpdir(), 'kafka-options-'));
const CA_TEXT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const CA = path.join(dir, 'ca.pem');
writeFileSync(CA, CA_TEXT);

describe('kafkaEventBusOptions', () => {
  it('maps brokers, client, namespace, TLS (the CA read), SASL, topic settings and the linger', () => {
    const config = loadConfig({
      SERVICE_NAME: 'orders',
      KAFKA_BROKERS: 'k1:9093,k2:9093',
      KAFKA_TOPIC_PREFIX: 'shop.',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: CA,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'shop',
      KAFKA_SASL_PASSWORD: 'kafka-secret',
      KAFKA_PARTITIONS: '6',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
      KAFKA_LINGER_MS: '7',
    });
    expect(kafkaEventBusOptions(config)).toEqual({
      client: 'kafkajs',
      brokers: ['k1:9093', 'k2:9093'],
      clientId: 'orders',
      logger: undefined,
      namespace: 'shop.',
      tls: { ca: CA_TEXT, cert: undefined, key: undefined },
      sasl: { mechanism: 'scram-sha-256', username: 'shop', password: 'kafka-secret' },
      partitions: 6,
      replicationFactor: 3,
      topicConfigs: { 'min.insync.replicas': '2' },
      lingerMs: 7,
    });
  });

  it('gives plaintext, no SASL, the broker-default replication and a 2 ms linger when nothing more is set', () => {
    const options = kafkaEventBusOptions(loadConfig({ KAFKA_BROKERS: 'k1:9092' }));
    expect(options).toMatchObject({ tls: undefined, sasl: undefined, replicationFactor: undefined, partitions: 3, topicConfigs: {}, lingerMs: 2 });
  });
});
