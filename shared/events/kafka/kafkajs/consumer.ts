/**
 * Consumer groups with kafkajs. A handler that fails retriably pauses only its own partition and
 * is tried again from the same offset after a backoff (the group keeps heartbeating meanwhile);
 * poison messages go to `<topic>.dlq` at once. Consumers restart themselves after a crash.
 */
import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import { retry } from '../../../retry';
import { deadLetterOf, onHandlerFailure } from '../../delivery';
import { DEAD_LETTER_SUFFIX, type EventMessage, type OutgoingMessage, type SubscribeOptions, type Subscription } from '../../types';
import type { Namespaced } from '../names';
import { DEFAULT_PARTITIONS, JOIN_TIMEOUT_MS, TOPIC_ATTEMPTS, type KafkaEventBusOptions } from '../options';
import { withTimeout } from '../timeout';

/** How a consumer publishes a dead-lettered message (through the bus's producer). */
export type Publish = (topic: string, message: OutgoingMessage) => Promise<void>;

export class KafkajsConsumers {
  private readonly consumers = new Set<Consumer>();

  constructor(
    private readonly kafka: Kafka,
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
    private readonly publish: Publish,
  ) {}

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    // Right after several processes create the same topics the broker's metadata can lag ("does
    // not host this topic-partition"): a few attempts with backoff instead of a failed start.
    return retry(() => this.subscribeOnce(options), {
      maxAttempts: TOPIC_ATTEMPTS,
      policy: { initialDelayMs: 250, maxDelayMs: 2000 },
      onRetry: (error, attempt) => this.options.logger?.warn({ groupId: options.groupId, attempt, err: errorMessage(error) }, 'subscribe failed; retrying'),
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.disconnect().catch(() => undefined)));
    this.consumers.clear();
  }

  private async subscribeOnce(options: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: this.names.onBroker(options.groupId),
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1000,
      // A fetch long-polls partitions that are not paused; a partition resumed after a retry joins
      // the next fetch, so this bounds how late a retry runs on an otherwise idle consumer.
      maxWaitTimeInMs: this.options.maxWaitTimeMs ?? 250,
      retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 10, restartOnFailure: async () => true },
    });
    this.consumers.add(consumer);
    consumer.on(consumer.events.CRASH, ({ payload }) =>
      this.options.logger?.warn({ err: errorMessage(payload.error), restart: payload.restart, groupId: options.groupId }, 'consumer crashed'),
    );
    // Resolve only once the group has handed this consumer its partitions: a message published
    // after subscribe() returns is then never skipped by a consumer that starts at the log's end.
    const joined = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => (remove(), resolve()));
    });
    const resumeTimers = new Set<NodeJS.Timeout>();
    const failures = new Map<string, { offset: string; attempts: number }>();
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: options.topics.map((topic) => this.names.onBroker(topic)), fromBeginning: options.fromBeginning ?? false });
      await consumer.run({
        // Partitions are independent (order is kept per key, within a partition): work on them at once.
        partitionsConsumedConcurrently: this.options.partitions ?? DEFAULT_PARTITIONS,
        // Offsets are resolved one message at a time, so a paused partition resumes at the message that failed.
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, pause, isRunning, isStale }) => {
          const slot = `${batch.topic}:${batch.partition}`;
          for (const raw of batch.messages) {
            if (!isRunning() || isStale()) return;
            const message = this.toEventMessage(batch.topic, batch.partition, raw);
            try {
              await options.handler(message);
            } catch (error) {
              const previous = failures.get(slot);
              const attempts = previous?.offset === raw.offset ? previous.attempts + 1 : 1;
              const verdict = onHandlerFailure(error, attempts, options);
              if ('retryInMs' in verdict) {
                failures.set(slot, { offset: raw.offset, attempts });
                if (attempts === 1 || attempts % 10 === 0) {
                  this.options.logger?.warn(
                    { topic: message.topic, partition: batch.partition, offset: raw.offset, attempts, retryInMs: verdict.retryInMs, err: errorMessage(error) },
                    'handler failed; partition paused until the retry',
                  );
                }
                const resume = pause();
                const timer = setTimeout(() => (resumeTimers.delete(timer), resume()), verdict.retryInMs);
                resumeTimers.add(timer);
                return;
              }
              this.options.logger?.warn({ topic: message.topic, partition: batch.partition, offset: raw.offset, reason: verdict.deadLetter }, 'message dead-lettered');
              // If this publish fails, kafkajs hands the batch over again from this message: nothing skipped unrecorded.
              await this.publish(message.topic + DEAD_LETTER_SUFFIX, deadLetterOf(message, verdict.deadLetter));
            }
            failures.delete(slot);
            resolveOffset(raw.offset);
            await heartbeat();
          }
        },
      });
      await withTimeout(joined, JOIN_TIMEOUT_MS, `consumer group ${options.groupId} did not get its partitions within ${JOIN_TIMEOUT_MS} ms`);
    } catch (error) {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
      throw new BackendUnavailableError('kafka', `cannot subscribe to ${options.topics.join(', ')}: ${errorMessage(error)}`, error);
    }
    return {
      stop: async () => {
        for (const timer of resumeTimers) clearTimeout(timer);
        resumeTimers.clear();
        this.consumers.delete(consumer);
        await consumer.disconnect();
      },
    };
  }

  private toEventMessage(topic: string, partition: number, message: KafkaMessage): EventMessage {
    return {
      topic: this.names.offBroker(topic),
      partition,
      key: message.key?.toString() ?? null,
      value: message.value?.toString() ?? '',
      headers: decodeHeaders(message.headers),
      offset: message.offset,
      timestamp: Number(message.timestamp),
    };
  }
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    decoded[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return decoded;
}
