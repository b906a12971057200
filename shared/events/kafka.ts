/**
 * Kafka event bus (kafkajs): topics made through the admin client, an idempotent producer
 * acknowledged by all in-sync replicas, and consumer groups. A handler that fails retriably pauses
 * only its own partition and is tried again from the same offset after a backoff (the group keeps
 * heartbeating meanwhile); poison messages go to `<topic>.dlq` at once. Consumers restart
 * themselves after a crash.
 */
import { Kafka, logLevel, type Consumer, type IHeaders, type KafkaMessage, type Producer, type LogEntry } from 'kafkajs';
import { BackendUnavailableError, errorMessage } from '../errors';
import type { Logger } from '../logging';
import { retry } from '../retry';
import { deadLetterOf, onHandlerFailure } from './delivery';
import {
  DEAD_LETTER_SUFFIX,
  type EventBus,
  type EventMessage,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
} from './types';

const JOIN_TIMEOUT_MS = 30_000;
/** Default longest publish (see `publishTimeoutMs`): one slow answer within kafkajs's request timeout (10 s) is still waited for. */
const PUBLISH_TIMEOUT_MS = 15_000;
const TOPIC_ATTEMPTS = 5;

export interface KafkaEventBusOptions {
  brokers: string[];
  clientId?: string;
  logger?: Logger;
  /** Partitions of topics this bus creates. */
  partitions?: number;
  /**
   * Prefix of every topic and consumer group on the broker, so several platforms (or test runs)
   * can share one cluster; callers keep using the plain names.
   */
  namespace?: string;
  /** Longest a fetch waits for new messages before it returns empty (and a resumed partition is fetched again). */
  maxWaitTimeMs?: number;
  /** How long the group waits for a silent consumer before handing its partitions to others. */
  sessionTimeoutMs?: number;
  /**
   * Longest one publish may take, connecting and kafkajs's own retries included (default 15 s).
   * Past it the publish fails as retriable and the producer is made anew: a hung broker, or a
   * producer stuck after a broker restart, must not hold a caller (the saga sweeper) for minutes.
   */
  publishTimeoutMs?: number;
}

export class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private producer?: Promise<Producer>;
  private readonly consumers = new Set<Consumer>();
  private readonly known = new Set<string>();

  constructor(private readonly options: KafkaEventBusOptions) {
    const logger = options.logger?.child({ component: 'kafkajs' });
    this.kafka = new Kafka({
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

  async ensureTopics(topics: string[]): Promise<void> {
    const wanted = [...new Set(topics.flatMap((topic) => [topic, topic + DEAD_LETTER_SUFFIX]))]
      .map((topic) => this.onBroker(topic))
      .filter((t) => !this.known.has(t));
    if (wanted.length === 0) return;
    // Several processes create the same topics at start-up; the broker's metadata can lag a
    // creation for a moment ("does not host this topic-partition"), so a few quick retries.
    await retry(() => this.createMissing(wanted), {
      maxAttempts: TOPIC_ATTEMPTS,
      policy: { initialDelayMs: 250, maxDelayMs: 4000 },
      shouldRetry: () => true,
      onRetry: (error, attempt) => this.options.logger?.debug({ attempt, err: errorMessage(error) }, 'topic creation failed; retrying'),
    }).catch((error) => {
      throw new BackendUnavailableError('kafka', `cannot create topics: ${errorMessage(error)}`, error);
    });
    for (const topic of wanted) this.known.add(topic);
  }

  private async createMissing(topics: string[]): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({ topic, numPartitions: this.options.partitions ?? 3, replicationFactor: -1 })),
        });
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    const batch = Array.isArray(messages) ? messages : [messages];
    const producer = this.connectedProducer();
    const sending = producer.then((connected) =>
      connected.send({
        topic: this.onBroker(topic),
        acks: -1,
        messages: batch.map((message) => ({ key: message.key ?? null, value: message.value, headers: message.headers ?? {} })),
      }),
    );
    // A send given up on below may still settle later: never as an unhandled rejection.
    sending.catch(() => undefined);
    const timeoutMs = this.options.publishTimeoutMs ?? PUBLISH_TIMEOUT_MS;
    try {
      await withTimeout(sending.then(() => undefined), timeoutMs, `no acknowledgement within ${timeoutMs} ms`);
    } catch (error) {
      if (error instanceof TimedOut) this.replaceProducer(producer);
      throw new BackendUnavailableError('kafka', `publish to ${topic} failed: ${errorMessage(error)}`, error);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    // Right after several processes create the same topics the broker's metadata can lag ("does
    // not host this topic-partition"): a few attempts with backoff instead of a failed start.
    return retry(() => this.subscribeOnce(options), {
      maxAttempts: TOPIC_ATTEMPTS,
      policy: { initialDelayMs: 250, maxDelayMs: 2000 },
      onRetry: (error, attempt) => this.options.logger?.warn({ groupId: options.groupId, attempt, err: errorMessage(error) }, 'subscribe failed; retrying'),
    });
  }

  private async subscribeOnce(options: SubscribeOptions): Promise<Subscription> {
    const consumer = this.kafka.consumer({
      groupId: this.onBroker(options.groupId),
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
      await consumer.subscribe({ topics: options.topics.map((topic) => this.onBroker(topic)), fromBeginning: options.fromBeginning ?? false });
      await consumer.run({
        // Partitions are independent (order is kept per key, within a partition): work on them at once.
        partitionsConsumedConcurrently: this.options.partitions ?? 3,
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

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.disconnect().catch(() => undefined)));
    this.consumers.clear();
    const producer = await this.producer?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
  }

  private onBroker(name: string): string {
    return (this.options.namespace ?? '') + name;
  }

  private offBroker(name: string): string {
    const namespace = this.options.namespace ?? '';
    return name.startsWith(namespace) ? name.slice(namespace.length) : name;
  }

  /** Drops a producer that let a publish time out (the next publish connects a new one) and disconnects it in the background. */
  private replaceProducer(stuck: Promise<Producer>): void {
    if (this.producer !== stuck) return;
    this.producer = undefined;
    void stuck.then((producer) => producer.disconnect()).catch(() => undefined);
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: true });
      this.producer = producer.connect().then(
        () => producer,
        (error) => {
          this.producer = undefined;
          throw error;
        },
      );
    }
    return this.producer;
  }

  private toEventMessage(topic: string, partition: number, message: KafkaMessage): EventMessage {
    return {
      topic: this.offBroker(topic),
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

/** A wait that ran out: told apart from the failures of what was waited for. */
class TimedOut extends Error {}

async function withTimeout(promise: Promise<void>, ms: number, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimedOut(message)), ms)));
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
