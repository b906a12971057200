/**
 * In-process event log that behaves like Kafka's partitions: each topic has `partitions` logs,
 * a message goes to the one its key hashes to, and each consumer group reads every partition on
 * its own with its own committed offset. Within a partition, messages of different keys are
 * handled concurrently (up to `window` handed out past the committed offset) and messages of one
 * key one after another, in order, as a keyed consumer on Kafka would. A retriable handler
 * failure holds back only its key until the retry; the committed offset stays below it, so a
 * member that takes the partition over starts from there (at least once, like Kafka).
 */
import type { Logger } from '../logging';
import { errorMessage } from '../errors';
import { deadLetterOf, onHandlerFailure } from './delivery';
import { DEAD_LETTER_SUFFIX, type EventBus, type EventMessage, type OutgoingMessage, type SubscribeOptions, type Subscription } from './types';

interface Member {
  options: SubscribeOptions;
  stopped: boolean;
}

/** One partition of one topic, as one group reads it. */
interface Slot {
  topic: string;
  partition: number;
  /** Every message below this offset is handled. */
  committed: number;
  /** The next offset to hand out. */
  next: number;
  /** Handled offsets at or above `committed`. */
  done: Set<number>;
  /** Offsets handed out and not yet handled, by key, oldest first: the head is the one running. */
  keys: Map<string, number[]>;
  /** Who runs each handed-out offset. */
  running: Map<number, Member>;
  /** Bumped when the slot starts again from `committed`: handlers of an older generation are ignored. */
  generation: number;
  retries: Set<NodeJS.Timeout>;
}

interface Group {
  slots: Map<string, Slot>;
  members: Member[];
}

export interface InMemoryEventBusOptions {
  logger?: Logger;
  /** Partitions per topic; messages with one key always share one. */
  partitions?: number;
  /** Most messages of one partition handed out past its committed offset (a consumer's fetch window). */
  window?: number;
}

/** Messages without a key share one queue: they keep the partition's order among themselves. */
const NO_KEY = '\u0000';

export class InMemoryEventBus implements EventBus {
  private readonly topics = new Map<string, EventMessage[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly partitions: number;
  private readonly window: number;
  private nextUnkeyed = 0;

  constructor(private readonly options: InMemoryEventBusOptions = {}) {
    this.partitions = options.partitions ?? 6;
    this.window = options.window ?? 256;
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
    for (const group of this.groups.values()) {
      for (const partition of touched) {
        const slot = group.slots.get(slotOf(topic, partition));
        if (slot) this.pump(group, slot);
      }
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const group: Group = this.groups.get(options.groupId) ?? { slots: new Map(), members: [] };
    this.groups.set(options.groupId, group);
    for (const topic of options.topics) {
      this.log(topic).forEach((log, partition) => {
        const key = slotOf(topic, partition);
        if (group.slots.has(key)) return;
        const start = options.fromBeginning ? 0 : log.length;
        group.slots.set(key, { topic, partition, committed: start, next: start, done: new Set(), keys: new Map(), running: new Map(), generation: 0, retries: new Set() });
      });
    }
    const member: Member = { options, stopped: false };
    group.members.push(member);
    this.pumpAll(group);
    return {
      stop: async () => {
        member.stopped = true;
        group.members = group.members.filter((m) => m !== member);
        // What the member was still running is handed out again, from the committed offset.
        for (const slot of group.slots.values()) if ([...slot.running.values()].includes(member)) this.restart(slot);
        this.pumpAll(group);
      },
    };
  }

  async close(): Promise<void> {
    for (const group of this.groups.values()) {
      for (const member of group.members) member.stopped = true;
      group.members = [];
      for (const slot of group.slots.values()) this.restart(slot);
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

  private pumpAll(group: Group): void {
    for (const slot of group.slots.values()) this.pump(group, slot);
  }

  /** Forgets what was handed out past the committed offset; it is handed out again. */
  private restart(slot: Slot): void {
    slot.generation += 1;
    slot.next = slot.committed;
    slot.done.clear();
    slot.keys.clear();
    slot.running.clear();
    for (const timer of slot.retries) clearTimeout(timer);
    slot.retries.clear();
  }

  /** Hands out the partition's pending messages: each starts at once unless its key has one running. */
  private pump(group: Group, slot: Slot): void {
    const log = this.log(slot.topic)[slot.partition];
    while (slot.next < log.length && slot.next - slot.committed < this.window) {
      const member = ownerOf(group, slot.topic, slot.partition);
      if (!member) return;
      const offset = slot.next++;
      const key = log[offset].key ?? NO_KEY;
      slot.running.set(offset, member);
      const queue = slot.keys.get(key);
      if (queue) queue.push(offset);
      else {
        slot.keys.set(key, [offset]);
        void this.handle(group, slot, key, offset, slot.generation);
      }
    }
  }

  /** Runs one message to its end (handled, or dead-lettered), retrying it as the failures say, then its key's next. */
  private async handle(group: Group, slot: Slot, key: string, offset: number, generation: number): Promise<void> {
    const message = this.log(slot.topic)[slot.partition][offset];
    const current = () => slot.generation === generation && slot.running.get(offset)?.stopped === false;
    for (let attempts = 1; current(); attempts++) {
      const member = slot.running.get(offset)!;
      try {
        await member.options.handler(message);
        break;
      } catch (error) {
        const verdict = onHandlerFailure(error, attempts, member.options);
        if ('retryInMs' in verdict) {
          if (attempts === 1 || attempts % 10 === 0) {
            this.options.logger?.warn({ topic: slot.topic, partition: slot.partition, offset, key, attempts, err: errorMessage(error) }, 'handler failed; its key waits for the retry');
          }
          await this.wait(slot, verdict.retryInMs);
          continue;
        }
        this.options.logger?.warn({ topic: slot.topic, partition: slot.partition, offset, reason: verdict.deadLetter }, 'message dead-lettered');
        await this.publish(slot.topic + DEAD_LETTER_SUFFIX, deadLetterOf(message, verdict.deadLetter));
        break;
      }
    }
    // A member that left mid-message does not commit; the message is handed out again.
    if (!current()) return;
    slot.running.delete(offset);
    slot.done.add(offset);
    while (slot.done.delete(slot.committed)) slot.committed += 1;
    const queue = slot.keys.get(key)!;
    queue.shift();
    if (queue.length > 0) void this.handle(group, slot, key, queue[0], generation);
    else slot.keys.delete(key);
    this.pump(group, slot);
  }

  /** Resolves after `ms`; a restart of the slot cancels the timer (the message is handed out again). */
  private wait(slot: Slot, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => (slot.retries.delete(timer), resolve()), ms);
      timer.unref();
      slot.retries.add(timer);
    });
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
