/** The kafkajs client for a bus's options: timeouts, retries, and its log lines through the platform's logger. */
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { KafkaEventBusOptions } from '../options';

export function kafkajsClient(options: KafkaEventBusOptions): Kafka {
  const logger = options.logger?.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId ?? 'trellis',
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 8 },
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
