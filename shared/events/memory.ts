/**
 * In-process event log that behaves like Kafka's partitions: each topic has `partitions` logs,
 * a message goes to the one its key hashes to, and each consumer group reads every partition on
 * its own (concurrently across partitions, in order within one) with its own committed offsets.
 * A retriable handler failure holds back only its partition until the retry.
 */
import type { Logger } from '../logging';
import { errorMessage } from '../errors';
import { deadLetterOf, onHandlerFailure } from './delivery';
import { DEAD_LETTER_SUFFIX, type EventBus, type EventMessage, type OutgoingMessage, type SubscribeOptions, type Subscription } from './types';

interface Member {
  options: SubscribeOptions;
  stopped: boolean;
}

interface Group {
  /** Next offset to hand out, by `topic/partition`. */
  offsets: Map<string, number>;
  members: Member[];
  /** Partitions with a drain loop running. */
  draining: Set<string>;
  /** Partitions waiting out a retry backoff, with their timer. */
  paused: Map<string, NodeJS.Timeout>;
  /** Failed attempts of the message at the head of a partition. */
  attempts: Map<string, number>;
}

export interface InMemoryEventBusOptions {
  logger?: Logger;
  /** Partitions per topic; messages with one key always share one. */
  partitions?: number;
}

export class InMemoryEventBus implements EventBus {
  private readonly topics = new Map<string, EventMessage[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly partitions: number;
  private nextUnkeyed = 0;

  constructor(private readonly options: InMemoryEventBusOptions = {}) {
    this.partitions = options.partitions ?? 6;
  }

  async ensureTopics(topics: string[]): Promise<void> {
    for (const topic of topics) {
      this.log(topic);
      this.log(topic + DEAD_LETTER_SUFFIX);
    }
  }

  async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    const logs = this.log(topic);
    const touched = new Set<number>();
    for (const message of Array.isArray(messages) ? messages : [messages]) {
      const partition = message.key === undefined ? this.nextUnkeyed++ % this.partitions : partitionOf(message.key, this.partitions);
      const log = logs[partition];
      log.push({
        topic,
        key: message.key ?? null,
        value: message.value,
        headers: { ...(message.headers ?? {}) },
        partition,
        offset: String(log.length),
        timestamp: Date.now(),
      });
      touched.add(partition);
    }
    for (const group of this.groups.values()) for (const partition of touched) this.drain(group, topic, partition);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const group: Group = this.groups.get(options.groupId) ?? { offsets: new Map(), members: [], draining: new Set(), paused: new Map(), attempts: new Map() };
    this.groups.set(options.groupId, group);
    for (const topic of options.topics) {
      this.log(topic).forEach((log, partition) => {
        const slot = slotOf(topic, partition);
        if (!group.offsets.has(slot)) group.offsets.set(slot, options.fromBeginning ? 0 : log.length);
      });
    }
    const member: Member = { options, stopped: false };
    group.members.push(member);
    for (const topic of options.topics) for (let partition = 0; partition < this.partitions; partition++) this.drain(group, topic, partition);
    return {
      stop: async () => {
        member.stopped = true;
        group.members = group.members.filter((m) => m !== member);
      },
    };
  }

  async close(): Promise<void> {
    for (const group of this.groups.values()) {
      for (const member of group.members) member.stopped = true;
      group.members = [];
      for (const timer of group.paused.values()) clearTimeout(timer);
      group.paused.clear();
    }
  }

  private log(topic: string): EventMessage[][] {
    let logs = this.topics.get(topic);
    if (!logs) {
      logs = Array.from({ length: this.partitions }, () => []);
      this.topics.set(topic, logs);
    }
    return logs;
  }

  /** Hands the partition's pending messages, one at a time, to the member that owns the partition. */
  private drain(group: Group, topic: string, partition: number): void {
    const slot = slotOf(topic, partition);
    if (group.draining.has(slot) || group.paused.has(slot) || !group.offsets.has(slot)) return;
    group.draining.add(slot);
    void this.drainLoop(group, topic, partition, slot).finally(() => group.draining.delete(slot));
  }

  private async drainLoop(group: Group, topic: string, partition: number, slot: string): Promise<void> {
    for (;;) {
      const offset = group.offsets.get(slot) ?? 0;
      const message = this.log(topic)[partition][offset];
      const member = ownerOf(group, topic, partition);
      if (!message || !member) return;
      try {
        await member.options.handler(message);
      } catch (error) {
        const attempts = (group.attempts.get(slot) ?? 0) + 1;
        const verdict = onHandlerFailure(error, attempts, member.options);
        if ('retryInMs' in verdict) {
          group.attempts.set(slot, attempts);
          if (attempts === 1 || attempts % 10 === 0) {
            this.options.logger?.warn({ topic, partition, offset, attempts, err: errorMessage(error) }, 'handler failed; partition paused until the retry');
          }
          const timer = setTimeout(() => {
            group.paused.delete(slot);
            this.drain(group, topic, partition);
          }, verdict.retryInMs);
          timer.unref();
          group.paused.set(slot, timer);
          return;
        }
        this.options.logger?.warn({ topic, partition, offset, reason: verdict.deadLetter }, 'message dead-lettered');
        await this.publish(topic + DEAD_LETTER_SUFFIX, deadLetterOf(message, verdict.deadLetter));
      }
      group.attempts.delete(slot);
      // A member that left mid-message does not commit; its successor gets the message again.
      if (!member.stopped) group.offsets.set(slot, offset + 1);
    }
  }
}

function slotOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

/** Partitions are spread over the group's members in turn, like Kafka's round-robin assignor. */
function ownerOf(group: Group, topic: string, partition: number): Member | undefined {
  const candidates = group.members.filter((m) => !m.stopped && m.options.topics.includes(topic));
  return candidates.length === 0 ? undefined : candidates[partition % candidates.length];
}

/** A stable hash of the key (FNV-1a), so one key always lands in one partition. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
