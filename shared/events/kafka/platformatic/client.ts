/**
 * What every @platformatic/kafka client of a bus shares: where the brokers are, TLS and SASL, and
 * timeouts short enough that a dead broker fails an operation within the publish deadline.
 */
import type { BaseOptions, SASLOptions } from '@platformatic/kafka';
import type { KafkaEventBusOptions, KafkaSasl } from '../options';

export function platformaticBaseOptions(options: KafkaEventBusOptions): BaseOptions {
  return {
    clientId: options.clientId ?? 'trellis',
    bootstrapBrokers: options.brokers,
    connectTimeout: 3000,
    // One request's answer; within the publish deadline (15 s) a slow answer is still waited for.
    timeout: 10_000,
    retries: 3,
    retryDelay: 250,
    // Metadata is refreshed at least this often, so a restarted broker's leaders are found again soon.
    metadataMaxAge: 5000,
    ...(options.tls ? { tls: { ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key } } : {}),
    ...(options.sasl ? { sasl: saslOptions(options.sasl) } : {}),
  };
}

function saslOptions(sasl: KafkaSasl): SASLOptions {
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'PLAIN', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'SCRAM-SHA-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'SCRAM-SHA-512', username: sasl.username, password: sasl.password };
    case 'oauthbearer':
      // A provider, not a value: the client asks for a fresh token on every new connection.
      return { mechanism: 'OAUTHBEARER', token: sasl.token };
  }
}
