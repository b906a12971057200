/**
 * One consumer-group member on @platformatic/kafka. Its single message stream is split into a
 * lane per partition (lane.ts), so a failing message holds back only its partition. Offsets are
 * committed every second (each partition's last settled message) and before a rejoin or a stop.
 * When the stream or the group membership fails (a broker restart), the member tears itself down
 * and joins again with backoff, by itself.
 */
import { Consumer, MessagesStreamModes, stringDeserializers, type Message, type MessagesStream } from '@platformatic/kafka';
import { errorMessage } from '../../../errors';
import { backoffDelay } from '../../../retry';
import type { EventMessage, OutgoingMessage, SubscribeOptions } from '../../types';
import type { Namespaced } from '../names';
import { JOIN_TIMEOUT_MS, type KafkaEventBusOptions } from '../options';
import { withTimeout } from '../timeout';
import { platformaticBaseOptions } from './client';
import { PartitionLane } from './lane';

type StringMessage = Message<string, string, string, string>;
type StringConsumer = Consumer<string, string, string, string>;
type StringStream = MessagesStream<string, string, string, string>;

/** Above this many messages waiting in lanes the stream pauses, so one stuck partition cannot fill memory. */
const MAX_QUEUED = 2000;
const REJOIN_BACKOFF = { initialDelayMs: 500, maxDelayMs: 5000 };

/**
 * How often settled offsets are committed: a commit per message would double the broker's requests
 * for nothing; a crash redelivers at most this much (handlers are idempotent: at least once).
 */
const COMMIT_INTERVAL_MS = 1000;
/** Longest a rejoin waits for offset commits in flight (one cannot finish while the group is mid-join). */
const COMMIT_FLUSH_MS = 2000;

class Member {
  consumer!: StringConsumer;
  stream?: StringStream;
  readonly lanes = new Map<string, PartitionLane>();
  /** Between a rebalance's start and the new assignment: nothing is fetched and no handler starts. */
  rebalancing = false;
  readonly commits = new Set<Promise<void>>();
  /** Per partition, the last message settled and not yet committed. */
  readonly uncommitted = new Map<string, StringMessage>();
  committer?: NodeJS.Timeout;
}

export class PlatformaticSubscription {
  private member?: Member;
  private stopped = false;
  private rejoining = false;
  private rejoinTimer?: NodeJS.Timeout;
  private queued = 0;

  constructor(
    private readonly names: Namespaced,
    private readonly options: KafkaEventBusOptions,
    private readonly subscription: SubscribeOptions,
    private readonly publish: (topic: string, message: OutgoingMessage) => Promise<void>,
  ) {}

  /** Resolves once the group has given this member its partitions and their start offsets are known. */
  async start(): Promise<void> {
    this.member = await this.join();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.rejoinTimer);
    const member = this.member;
    this.member = undefined;
    if (member) await this.leave(member);
  }

  private async join(): Promise<Member> {
    const member = new Member();
    const consumer: StringConsumer = (member.consumer = new Consumer({
      ...platformaticBaseOptions(this.options),
      groupId: this.names.onBroker(this.subscription.groupId),
      deserializers: stringDeserializers,
      autocommit: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1000,
      // A member that does not rejoin within this is dropped from the generation instead of holding it for the default 102 s.
      rebalanceTimeout: 20_000,
      maxWaitTime: this.options.maxWaitTimeMs ?? 500,
      // Runs before every JoinGroup, as Java's onPartitionsRevoked: the join waits until no handler
      // of this member runs and its settled offsets are committed, so a partition's next owner
      // never overlaps a handler here and starts after what was handled.
      protocolsMetadata: () => this.quiesce(member),
    }));
    consumer.on('error', (error: unknown) => this.fail(consumer, 'consumer', error));
    // The classic (eager) protocol: a member keeps fetching while the group rebalances, so the
    // stream pauses from the rebalance's start until the new assignment is known.
    consumer.on('consumer:group:rebalance', () => {
      member.rebalancing = true;
      member.stream?.pause();
    });
    consumer.on('consumer:group:join', ({ assignments }) => {
      member.rebalancing = false;
      this.dropRevoked(member, assignments ?? []);
      for (const lane of member.lanes.values()) lane.release();
      if (this.queued < MAX_QUEUED) member.stream?.resume();
    });
    consumer.on('consumer:heartbeat:stalled', ({ stalledFor }) => this.fail(consumer, 'heartbeat', new Error(`no heartbeat for ${stalledFor} ms`)));
    try {
      const stream = await consumer.consume({
        topics: this.subscription.topics.map((topic) => this.names.onBroker(topic)),
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: this.subscription.fromBeginning ? 'earliest' : 'latest',
      });
      member.stream = stream;
      // Listen before the first fetch: the stream starts reading once a 'data' listener is on.
      const positioned = new Promise<void>((resolve) => {
        const onOffsets = () => {
          if (!consumer.assignments) return;
          stream.off('offsets', onOffsets);
          resolve();
        };
        stream.on('offsets', onOffsets);
      });
      stream.on('data', (message: StringMessage) => this.dispatch(member, message));
      stream.on('error', (error: Error) => this.fail(consumer, 'stream', error));
      stream.on('close', () => this.fail(consumer, 'stream', new Error('message stream closed')));
      await withTimeout(positioned, JOIN_TIMEOUT_MS, `consumer group ${this.subscription.groupId} did not get its partitions within ${JOIN_TIMEOUT_MS} ms`);
      return member;
    } catch (error) {
      await consumer.close(true).catch(() => undefined);
      throw error;
    }
  }

  private dispatch(member: Member, message: StringMessage): void {
    // A fetch sent before a rebalance can answer after it, with records of a partition that is
    // another member's now: those are that member's to handle.
    if (!member.consumer.assignments?.some(({ topic, partitions }) => topic === message.topic && partitions.includes(message.partition))) return;
    const slot = `${message.topic}:${message.partition}`;
    let lane = member.lanes.get(slot);
    if (!lane) {
      lane = new PartitionLane({ subscription: this.subscription, publish: this.publish, logger: this.options.logger });
      member.lanes.set(slot, lane);
    }
    const before = lane.size;
    lane.push(this.toEventMessage(message), () => this.settled(member, message));
    this.queued += lane.size - before;
    if (this.queued >= MAX_QUEUED) member.stream?.pause();
  }

  private settled(member: Member, message: StringMessage): void {
    this.queued--;
    if (this.queued < MAX_QUEUED / 2 && !member.rebalancing && member.stream?.isPaused()) member.stream.resume();
    // Lanes settle in offset order, so the last settled message of a partition is what to commit.
    member.uncommitted.set(`${message.topic}:${message.partition}`, message);
    member.committer ??= setTimeout(() => this.commit(member), COMMIT_INTERVAL_MS);
  }

  /**
   * Commits each partition's last settled message in one request, straight through the consumer:
   * the stream's own commit waits out a rejoin, and a commit made before a join must land before
   * it (a partition's next owner starts from it). One refused by a rebalance is harmless: the next
   * owner starts from the last committed offset (at least once).
   */
  private commit(member: Member): void {
    clearTimeout(member.committer);
    member.committer = undefined;
    if (member.uncommitted.size === 0) return;
    const offsets = [...member.uncommitted.values()].map((message) => ({
      topic: message.topic,
      partition: message.partition,
      offset: message.offset + 1n,
      leaderEpoch: message.leaderEpoch,
    }));
    member.uncommitted.clear();
    const commit = member.consumer.commit({ offsets }).catch((error: unknown) => {
      this.options.logger?.debug({ err: errorMessage(error), groupId: this.subscription.groupId }, 'offset commit failed');
    });
    member.commits.add(commit);
    void commit.then(() => member.commits.delete(commit));
  }

  private async quiesce(member: Member): Promise<Buffer> {
    member.rebalancing = true;
    member.stream?.pause();
    await Promise.all([...member.lanes.values()].map((lane) => lane.hold()));
    this.commit(member);
    await withTimeout(Promise.all(member.commits).then(() => undefined), COMMIT_FLUSH_MS, 'commits still in flight').catch(() => undefined);
    return Buffer.alloc(0);
  }

  /** Partitions handed to another member after a rebalance: what their lanes still hold is that member's now. */
  private dropRevoked(member: Member, assignments: Array<{ topic: string; partitions: number[] }>): void {
    const kept = new Set(assignments.flatMap(({ topic, partitions }) => partitions.map((partition) => `${topic}:${partition}`)));
    for (const [slot, lane] of member.lanes) {
      if (kept.has(slot)) continue;
      member.lanes.delete(slot);
      member.uncommitted.delete(slot);
      this.queued -= lane.size;
      void lane.close();
    }
  }

  /** The member's stream or group membership failed: leave cleanly, then join again with backoff. */
  private fail(consumer: StringConsumer, what: string, error: unknown): void {
    const member = this.member;
    if (this.stopped || this.rejoining || member?.consumer !== consumer) return;
    this.rejoining = true;
    this.member = undefined;
    this.options.logger?.warn({ groupId: this.subscription.groupId, err: errorMessage(error) }, `kafka ${what} failed; the member joins again`);
    void this.leave(member).then(() => this.rejoin(1));
  }

  private rejoin(attempt: number): void {
    if (this.stopped) return;
    this.rejoinTimer = setTimeout(() => {
      this.join().then(
        (member) => {
          this.rejoining = false;
          if (this.stopped) return void this.leave(member);
          this.member = member;
          this.options.logger?.info({ groupId: this.subscription.groupId, attempt }, 'kafka consumer joined again');
        },
        (error) => {
          this.options.logger?.warn({ groupId: this.subscription.groupId, attempt, err: errorMessage(error) }, 'kafka consumer could not join again; retrying');
          this.rejoin(attempt + 1);
        },
      );
    }, backoffDelay(attempt, REJOIN_BACKOFF));
  }

  /** Waits for the messages in hand, then closes the stream and leaves the group. */
  private async leave(member: Member): Promise<void> {
    member.stream?.removeAllListeners('data');
    await Promise.all([...member.lanes.values()].map((lane) => lane.close()));
    member.lanes.clear();
    this.queued = 0;
    // What was handled is committed before the member leaves, so the next owner does not handle it again.
    this.commit(member);
    await withTimeout(Promise.all(member.commits).then(() => undefined), COMMIT_FLUSH_MS, 'commits still in flight').catch(() => undefined);
    await member.stream?.close().catch(() => undefined);
    await member.consumer.close(true).catch(() => undefined);
  }

  private toEventMessage(message: StringMessage): EventMessage {
    return {
      topic: this.names.offBroker(message.topic),
      partition: message.partition,
      key: message.key ?? null,
      value: message.value ?? '',
      headers: Object.fromEntries(message.headers),
      offset: message.offset.toString(),
      timestamp: Number(message.timestamp),
    };
  }
}
