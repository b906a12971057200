/** The kafkajs client for a bus's options: TLS and SASL, timeouts, retries, and its log lines through the platform's logger. */
import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaEventBusOptions, KafkaSasl, KafkaTls } from '../options';

/** `retries`: kafkajs's own retries of a request or connection (8 unless a caller wants a single try). */
export function kafkajsClient(options: KafkaEventBusOptions, { retries = 8 }: { retries?: number } = {}): Kafka {
  const logger = options.logger?.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId ?? 'trellis',
    brokers: options.brokers,
    ssl: kafkajsSsl(options.tls),
    sasl: kafkajsSasl(options.sasl),
    // A TLS handshake and a SASL exchange come on top of the TCP connect: 3 s leaves room for them on a loaded machine.
    connectionTimeout: 3000,
    authenticationTimeout: 5000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        if (level <= logLevel.ERROR) logger?.error(extra, message);
        else logger?.debug(extra, message);
      },
  });
}

/** kafkajs hands `ssl` to `tls.connect`: the CA replaces the system's trust store only when one is given. */
export function kafkajsSsl(tls: KafkaTls | undefined): ConnectionOptions | undefined {
  if (!tls) return undefined;
  const ssl: ConnectionOptions = {};
  if (tls.ca) ssl.ca = [tls.ca];
  if (tls.cert) ssl.cert = tls.cert;
  if (tls.key) ssl.key = tls.key;
  return ssl;
}

export function kafkajsSasl(sasl: KafkaSasl | undefined): SASLOptions | undefined {
  if (!sasl) return undefined;
  if (sasl.mechanism === 'oauthbearer') {
    const { token } = sasl;
    // kafkajs asks at every (re)authentication; the token source keeps a token until it nearly expires.
    return { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await token() }) };
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
}
