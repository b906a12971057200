/**
 * The Kafka event bus's options from the configuration: brokers, client, TLS (the PEM files read
 * here), SASL (an OAUTHBEARER token source for oauthbearer) and how topics are made. Every place
 * that builds a Kafka bus from config goes through here, so none forgets the security settings.
 */
import { readPemFile, type Config } from '../config';
import type { KafkaClientName, KafkaEventBusOptions } from '../events';
import { clientCredentialsToken } from '../events/kafka/oauthToken';
import type { KafkaSasl, KafkaTls } from '../events/kafka/options';
import type { Logger } from '../logging';

export type KafkaBusSettings = KafkaEventBusOptions & { client: KafkaClientName };

export function kafkaEventBusOptions(config: Pick<Config, 'backends' | 'kafka' | 'serviceName'>, logger?: Logger): KafkaBusSettings {
  const { kafka } = config;
  return {
    client: kafka.client,
    brokers: config.backends.kafkaBrokers,
    clientId: config.serviceName ?? 'trellis',
    logger,
    namespace: kafka.topicPrefix,
    tls: kafka.ssl ? kafkaTls(kafka.ssl) : undefined,
    sasl: kafkaSasl(kafka.sasl),
    partitions: kafka.partitions,
    replicationFactor: kafka.replicationFactor,
    topicConfigs: kafka.topicConfigs,
    lingerMs: kafka.lingerMs,
  };
}

function kafkaTls(ssl: NonNullable<Config['kafka']['ssl']>): KafkaTls {
  return {
    ca: ssl.caFile ? readPemFile('KAFKA_SSL_CA_FILE', ssl.caFile) : undefined,
    cert: ssl.certFile ? readPemFile('KAFKA_SSL_CERT_FILE', ssl.certFile) : undefined,
    key: ssl.keyFile ? readPemFile('KAFKA_SSL_KEY_FILE', ssl.keyFile) : undefined,
  };
}

function kafkaSasl(sasl: Config['kafka']['sasl']): KafkaSasl | undefined {
  if (!sasl) return undefined;
  if (sasl.mechanism === 'oauthbearer') return { mechanism: 'oauthbearer', token: clientCredentialsToken(sasl) };
  return sasl;
}
