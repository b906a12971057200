/**
 * In-process event log that behaves like Kafka's partitions: each topic has `partitions` logs,
 * a message goes to the one its key hashes to, and each consumer group reads every partition on
 * its own with its own committed offsets. The member owning a partition handles its messages
 * concurrently across keys and in order within a key (shared/events/dispatcher); a retriable
 * handler failure holds back only its key until the retry.
 */
import type { Logger } from '../logging';
import { deadLetterOf } from './delivery';
import { KeyedDispatcher } from './dispatcher';
import { DEAD_LETTER_SUFFIX, type EventBus, type EventMessage, type OutgoingMessage, type SubscribeOptions, type Subscription } from './types';

/** Messages of one partition handed to a member and not settled yet, at most; more wait in the log. */
const PARTITION_WINDOW = 500;

interface Member {
  options: SubscribeOptions;
  dispatcher: KeyedDispatcher;
  stopped: boolean;
  /** Stopped and every handler it started has returned. */
  drained: boolean;
}

interface Slot {
  /** Offset below which every message is settled: where a new owner starts. */
  committed: number;
  /** Next offset to hand to `holder`. */
  position: number;
  /** The member the partition's messages were last handed to. */
  holder?: Member;
}

interface Group {
  slots: Map<string, Slot>;
  members: Member[];
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
    for (const group of this.groups.values()) for (const partition of touched) this.pump(group, topic, partition);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const group: Group = this.groups.get(options.groupId) ?? { slots: new Map(), members: [] };
    this.groups.set(options.groupId, group);
    for (const topic of options.topics) {
      this.log(topic).forEach((log, partition) => {
        const slot = slotOf(topic, partition);
        const start = options.fromBeginning ? 0 : log.length;
        if (!group.slots.has(slot)) group.slots.set(slot, { committed: start, position: start });
      });
    }
    const member: Member = {
      options,
      stopped: false,
      drained: false,
      dispatcher: new KeyedDispatcher({
        ...options,
        logger: this.options.logger,
        deadLetter: (message, reason) => this.publish(message.topic + DEAD_LETTER_SUFFIX, deadLetterOf(message, reason)),
        onSettled: (topic, partition) => this.onSettled(group, member, topic, partition),
      }),
    };
    group.members.push(member);
    this.pumpAll(group);
    return { stop: () => this.leave(group, member) };
  }

  async close(): Promise<void> {
    const leaving = [...this.groups.values()].flatMap((group) => group.members.map((member) => this.leave(group, member)));
    await Promise.all(leaving);
  }

  private log(topic: string): EventMessage[][] {
    let logs = this.topics.get(topic);
    if (!logs) {
      logs = Array.from({ length: this.partitions }, () => []);
      this.topics.set(topic, logs);
    }
    return logs;
  }

  /** Stops the member once its running handlers return; what it had not settled goes to its successor. */
  private async leave(group: Group, member: Member): Promise<void> {
    if (member.stopped) return;
    member.stopped = true;
    group.members = group.members.filter((m) => m !== member);
    await member.dispatcher.stop();
    this.recordProgress(group, member);
    member.drained = true;
    this.pumpAll(group);
  }

  private onSettled(group: Group, member: Member, topic: string, partition: number): void {
    const slot = group.slots.get(slotOf(topic, partition));
    if (slot?.holder !== member) return;
    const committable = member.dispatcher.committable(topic, partition);
    if (committable !== undefined) slot.committed = Number(committable);
    this.pump(group, topic, partition);
  }

  private recordProgress(group: Group, member: Member): void {
    for (const [key, slot] of group.slots) {
      if (slot.holder !== member) continue;
      const [topic, partition] = splitSlot(key);
      const committable = member.dispatcher.committable(topic, partition);
      if (committable !== undefined) slot.committed = Number(committable);
    }
  }

  private pumpAll(group: Group): void {
    for (const key of group.slots.keys()) {
      const [topic, partition] = splitSlot(key);
      this.pump(group, topic, partition);
    }
  }

  /**
   * Hands the partition's next messages to the member owning it. When the owner changes, the
   * previous holder first finishes what it was handed, so one key never runs on two members.
   */
  private pump(group: Group, topic: string, partition: number): void {
    const slot = group.slots.get(slotOf(topic, partition));
    if (!slot) return;
    const owner = ownerOf(group, topic, partition);
    const holder = slot.holder;
    if (holder && holder !== owner) {
      const handedOver = holder.stopped ? holder.drained : holder.dispatcher.pending(topic, partition) === 0;
      if (!handedOver) return;
      holder.dispatcher.forget(topic, partition);
      slot.holder = undefined;
      slot.position = slot.committed;
    }
    if (!owner) return;
    slot.holder = owner;
    const log = this.log(topic)[partition];
    while (slot.position < log.length && owner.dispatcher.pending(topic, partition) < PARTITION_WINDOW) {
      owner.dispatcher.offer(log[slot.position]);
      slot.position += 1;
    }
  }
}

function slotOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

function splitSlot(slot: string): [string, number] {
  const at = slot.lastIndexOf('/');
  return [slot.slice(0, at), Number(slot.slice(at + 1))];
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
