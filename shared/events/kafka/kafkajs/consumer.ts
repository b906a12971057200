/**
 * Consumer groups with kafkajs, keyed: within a partition, different keys run at once and one key
 * in order (shared/events/kafka/keyedPartition.ts). Handlers run only inside `eachBatch`, and
 * `eachBatch` returns only once its partition's handlers have ended: kafkajs rejoins a rebalancing
 * group only after every `eachBatch` has returned, so a partition never has handlers on two members.
 * The fetch position moves past every message taken; the committed offset, every second and before
 * a rejoin or a stop, only up to the first unsettled one. Consumers restart themselves after a crash.
 */
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { BackendUnavailableError, errorMessage } from '../../../errors';
import { Backoff, retry } from '../../../retry';
import type { EventMessage, SubscribeOptions, Subscription } from '../../types';
import { KeyedAssignment, type TopicPartitionOffset } from '../keyedAssignment';
import { keyedDelivery, type Publish } from '../keyedDelivery';
import { DEFAULT_WINDOW, KeyedPartition } from '../keyedPartition';
import type { Namespaced } from '../names';
import { DEFAULT_PARTITIONS, JOIN_TIMEOUT_MS, TOPIC_ATTEMPTS, type KafkaEventBusOptions } from '../options';
import { withTimeout } from '../timeout';

export type { Publish } from '../keyedDelivery';

/** How often settled offsets are committed (and at every rejoin and stop): not once per message or batch. */
export const COMMIT_INTERVAL_MS = 1000;

/**
 * How long one commit may hold up the next. kafkajs retries a commit that fails on a connection
 * (a coordinator broker down or moving) for about 30 s; a rejoin that waited that long for it left
 * the member's partitions unconsumed as long (the saga chaos test's stalled reply consumer). A
 * commit given up on goes on in kafkajs; the next tick commits again once it ended.
 */
export const COMMIT_TIMEOUT_MS = 2000;

/**
 * A commit answered "not the coordinator" after kafkajs's retries: kafkajs keeps the broker it
 * found at the group join for its commits and never looks for the coordinator again until the next
 * join, so after the coordinator moved (its broker restarted) every commit fails while fetching and
 * heartbeats go on. Only a new join finds the new coordinator.
 */
const isStaleCoordinator = (error: unknown) =>
  [error, (error as { cause?: unknown } | null)?.cause].some((each) => (each as { type?: string } | null)?.type === 'NOT_COORDINATOR_FOR_GROUP');

/** kafkajs's own test for "the group is rebalancing: rejoin" (src/errors.js isRebalancing). */
const isRebalancing = (error: unknown) => ['REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION'].includes((error as { type?: string } | null)?.type ?? '');

export class KafkajsConsumers {
  private readonly consumers = new Set<KeyedKafkajsConsumer>();

  constructor(
    private readonly kafka: Kafka,
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
    private readonly publish: Publish,
  ) {}

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    // Right after several processes create the same topics the broker's metadata can lag ("does
    // not host this topic-partition"): a few attempts with backoff instead of a failed start.
    const consumer = await retry(() => this.subscribeOnce(options), {
      maxAttempts: TOPIC_ATTEMPTS,
      policy: { initialDelayMs: 250, maxDelayMs: 2000 },
      onRetry: (error, attempt) => this.options.logger?.warn({ groupId: options.groupId, attempt, err: errorMessage(error) }, 'subscribe failed; retrying'),
    });
    this.consumers.add(consumer);
    return {
      stop: async () => {
        this.consumers.delete(consumer);
        await consumer.stop();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((consumer) => consumer.stop().catch(() => undefined)));
    this.consumers.clear();
  }

  private async subscribeOnce(options: SubscribeOptions): Promise<KeyedKafkajsConsumer> {
    const consumer = new KeyedKafkajsConsumer(this.kafka, this.names, this.options, options, this.publish);
    try {
      await consumer.start();
      return consumer;
    } catch (error) {
      await consumer.stop().catch(() => undefined);
      throw new BackendUnavailableError('kafka', `cannot subscribe to ${options.topics.join(', ')}: ${errorMessage(error)}`, error);
    }
  }
}

/** One subscription: a kafkajs consumer driving a keyed assignment. */
class KeyedKafkajsConsumer {
  private readonly consumer: Consumer;
  private readonly assignment: KeyedAssignment;
  /** Resumes of partitions paused with a full window, by slot. */
  private readonly paused = new Map<string, () => void>();
  /** Partitions sought back to have a due retry handed over again, not fetched since. */
  private readonly poked = new Set<string>();
  private commitTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private readonly restarts = new Backoff({ initialDelayMs: 500, maxDelayMs: 10_000, jitter: 0.2 });
  private committing?: Promise<void>;
  /** The kafkajs commit call in flight (it may outlive our wait for it, retrying). */
  private retrying?: Promise<void>;
  private stopping?: Promise<void>;
  private rejoining?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly names: Namespaced,
    private readonly bus: KafkaEventBusOptions,
    private readonly options: SubscribeOptions,
    publish: Publish,
  ) {
    this.consumer = kafka.consumer({
      groupId: names.onBroker(options.groupId),
      sessionTimeout: bus.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1000,
      // A fetch long-polls partitions that are not paused, so this bounds how late a resumed partition is fetched.
      maxWaitTimeInMs: bus.maxWaitTimeMs ?? 250,
      retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 10, restartOnFailure: async () => true },
    });
    const deliver = keyedDelivery(options, publish, bus.logger);
    this.assignment = new KeyedAssignment(
      (topic, partition) => new KeyedPartition({ deliver, window: bus.window ?? DEFAULT_WINDOW, onDue: () => this.poke(topic, partition) }),
    );
  }

  async start(): Promise<void> {
    const { consumer, options } = this;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.bus.logger?.warn({ err: errorMessage(payload.error), restart: payload.restart, groupId: options.groupId }, 'consumer crashed');
      // kafkajs restarts a crashed consumer only after an error it deems retriable. Others happen
      // while a broker restarts (a heartbeat answered "not coordinator" by a broker shutting down,
      // then "Failed to find group coordinator" while it is down) and would leave this consumer
      // stopped for good: it is run again here, with backoff, until it joins.
      if (payload.restart || this.stopping) return;
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => void this.run().catch(() => undefined), this.restarts.next());
    });
    // A new generation hands every partition out again from its committed offset.
    consumer.on(consumer.events.GROUP_JOIN, () => (this.restarts.reset(), this.newGeneration()));
    // Every eachBatch has returned (kafkajs waits for them) and no handler runs: commit before the rejoin.
    consumer.on(consumer.events.REBALANCING, () => {
      this.assignment.halt();
      void this.commit();
    });
    // Resolve only once the group has handed this consumer its partitions: a message published
    // after subscribe() returns is then never skipped by a consumer that starts at the log's end.
    const joined = new Promise<void>((resolve) => {
      const remove = consumer.on(consumer.events.GROUP_JOIN, () => (remove(), resolve()));
    });
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics.map((topic) => this.names.onBroker(topic)), fromBeginning: options.fromBeginning ?? false });
    await this.run();
    // A tick while a commit is still on its way (kafkajs retries one for a while) is skipped, not queued.
    this.commitTimer = setInterval(() => void (this.committing ?? this.retrying ?? this.commit()), COMMIT_INTERVAL_MS);
    this.commitTimer.unref();
    await withTimeout(joined, JOIN_TIMEOUT_MS, `consumer group ${options.groupId} did not get its partitions within ${JOIN_TIMEOUT_MS} ms`);
  }

  /** Runs the consumer (again, after a crash kafkajs does not restart from: its subscription is kept). */
  private async run(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.consumer.run({
        // Offsets are committed here (commit()), never past an unsettled message.
        autoCommit: false,
        eachBatchAutoResolve: false,
        // Partitions are independent: their batches run at once.
        partitionsConsumedConcurrently: this.bus.partitions ?? DEFAULT_PARTITIONS,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    } catch (error) {
      // A start that fails is reported as a crash (and retried from there); this is anything else.
      this.bus.logger?.error({ groupId: this.options.groupId, err: errorMessage(error) }, 'consumer could not run');
      throw error;
    }
  }

  /** Starts nothing more, lets running handlers end, commits what they settled, and leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.commitTimer);
      clearTimeout(this.restartTimer);
      this.assignment.halt();
      try {
        this.consumer.pause(this.options.topics.map((topic) => ({ topic: this.names.onBroker(topic) })));
      } catch {
        // not running (never started, or between a crash and its restart): nothing is fetched anyway
      }
      await this.assignment.idle();
      await this.commit();
      await this.consumer.disconnect();
    })();
    return this.stopping;
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, pause, isRunning, isStale, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    const state = this.assignment.partition(batch.topic, batch.partition);
    if (!state) return;
    const slot = `${batch.partition}/${batch.topic}`;
    this.poked.delete(slot);
    let failure: unknown;
    const beat = async () => {
      if (failure !== undefined) return;
      try {
        await heartbeat();
      } catch (error) {
        failure = error;
        // Either way kafkajs rejoins (and GROUP_JOIN resets): nothing more starts on partitions this member may have lost.
        if (isRebalancing(error) || (error as { type?: string }).type === 'UNKNOWN_MEMBER_ID') this.assignment.halt();
      }
    };
    let next = 0;
    state.open();
    try {
      while (next < batch.messages.length && !this.assignment.halted && failure === undefined && isRunning()) {
        if (state.offer(this.toEventMessage(batch.topic, batch.partition, batch.messages[next])) !== 'full') next += 1;
        // A full window with nothing running is held by retries: the rest waits (paused below).
        else if (state.running === 0) break;
        else await state.changed().then(beat);
      }
      while (state.running > 0) await state.changed().then(beat);
    } finally {
      state.close();
    }
    if (state.revoked) return;
    const lastTaken = state.lastTaken;
    if (lastTaken !== undefined) resolveOffset(lastTaken);
    if (next < batch.messages.length && failure === undefined && !this.assignment.halted && !this.paused.has(slot)) this.paused.set(slot, pause());
    if (failure === undefined) return;
    if (isRebalancing(failure)) {
      // Before kafkajs rejoins: every handler of this member ends and what they settled is committed.
      await this.assignment.idle();
      await this.commit((offsets) => commitOffsetsIfNecessary({ topics: byTopic(offsets) }));
    }
    throw failure;
  }

  /** A retry came due on a partition no eachBatch is running for: fetch it again from its first unsettled message. */
  private poke(topic: string, partition: number): void {
    const slot = `${partition}/${topic}`;
    const state = this.assignment.partition(topic, partition);
    if (!state || this.stopping || this.poked.has(slot)) return;
    const offset = state.committable;
    if (offset === undefined) return;
    this.poked.add(slot);
    try {
      this.paused.get(slot)?.();
      this.paused.delete(slot);
      // Every message below this offset is settled, so even a seek that lands in a later generation loses nothing.
      this.consumer.seek({ topic, partition, offset });
    } catch (error) {
      this.poked.delete(slot);
      this.bus.logger?.debug({ topic, partition, err: errorMessage(error) }, 'could not fetch a partition again for its retry; the next generation will');
    }
  }

  private newGeneration(): void {
    this.assignment.reset();
    if (this.stopping) this.assignment.halt();
    for (const resume of this.paused.values()) resume();
    this.paused.clear();
    this.poked.clear();
  }

  /** Commits every partition's settled prefix that moved; a failure is logged and retried on the next tick. */
  private commit(send: (offsets: TopicPartitionOffset[]) => Promise<void> = (offsets) => this.commitThroughKafkajs(offsets)): Promise<void> {
    // One at a time, in order: a commit at a rejoin or a stop goes after the one on its way, which
    // holds it COMMIT_TIMEOUT_MS at the most.
    const previous = this.committing ?? Promise.resolve();
    const next = previous.then(() =>
      withTimeout(
        this.assignment.commitDue(send).then(() => undefined),
        COMMIT_TIMEOUT_MS,
        `offset commit not acknowledged within ${COMMIT_TIMEOUT_MS} ms`,
      ).then(
        () => undefined,
        (error: unknown) => this.bus.logger?.debug({ groupId: this.options.groupId, err: errorMessage(error) }, 'offset commit failed; retried on the next tick'),
      ),
    );
    this.committing = next;
    void next.finally(() => {
      if (this.committing === next) this.committing = undefined;
    });
    return next;
  }

  private commitThroughKafkajs(offsets: TopicPartitionOffset[]): Promise<void> {
    const call = this.consumer.commitOffsets(offsets);
    this.retrying = call;
    void call
      .then(
        () => undefined,
        (error: unknown) => {
          if (isStaleCoordinator(error)) this.rejoin('offset commits reach a broker that is no longer the group coordinator');
        },
      )
      .finally(() => {
        if (this.retrying === call) this.retrying = undefined;
      });
    return call;
  }

  /**
   * Leaves the group and joins it again (kafkajs has no rejoin of its own to call): once this
   * member's handlers ended, the consumer stops and runs again, which finds the coordinator anew.
   * What was settled and not committed is handled again (at least once), as after any restart.
   */
  private rejoin(reason: string): void {
    if (this.stopping || this.rejoining) return;
    this.bus.logger?.warn({ groupId: this.options.groupId, reason }, 'rejoining the consumer group');
    this.rejoining = (async () => {
      this.assignment.halt();
      await this.assignment.idle();
      await this.consumer.stop();
      await this.run();
    })()
      .catch((error: unknown) => this.bus.logger?.warn({ groupId: this.options.groupId, err: errorMessage(error) }, 'rejoin failed; the consumer restarts after its crash'))
      .finally(() => {
        this.rejoining = undefined;
      });
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

function byTopic(offsets: TopicPartitionOffset[]): Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> {
  const topics = new Map<string, Array<{ partition: number; offset: string }>>();
  for (const { topic, partition, offset } of offsets) topics.set(topic, [...(topics.get(topic) ?? []), { partition, offset }]);
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    decoded[name] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return decoded;
}
