/**
 * In-process event log: topics are append-only arrays with offsets; each consumer group keeps
 * its own committed offset and gives every message to one member, in order.
 */
import type { Logger } from '../logging';
import { errorMessage } from '../errors';
import {
  DEAD_LETTER_SUFFIX,
  DLQ_ERROR_HEADER,
  DLQ_SOURCE_TOPIC_HEADER,
  type EventBus,
  type EventMessage,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
} from './types';

interface Member {
  options: SubscribeOptions;
  stopped: boolean;
}

interface Group {
  offsets: Map<string, number>;
  members: Member[];
  next: number;
  draining: boolean;
}

export interface InMemoryEventBusOptions {
  logger?: Logger;
  /** Delay between handler attempts; tests set it to 0. */
  retryDelayMs?: number;
}

export class InMemoryEventBus implements EventBus {
  private readonly topics = new Map<string, EventMessage[]>();
  private readonly groups = new Map<string, Group>();
  private readonly retryDelayMs: number;

  constructor(private readonly options: InMemoryEventBusOptions = {}) {
    this.retryDelayMs = options.retryDelayMs ?? 50;
  }

  async ensureTopics(topics: string[]): Promise<void> {
    for (const topic of topics) {
      this.log(topic);
      this.log(topic + DEAD_LETTER_SUFFIX);
    }
  }

  async publish(topic: string, messages: OutgoingMessage | OutgoingMessage[]): Promise<void> {
    const log = this.log(topic);
    for (const message of Array.isArray(messages) ? messages : [messages]) {
      log.push({
        topic,
        key: message.key ?? null,
        value: message.value,
        headers: { ...(message.headers ?? {}) },
        partition: 0,
        offset: String(log.length),
        timestamp: Date.now(),
      });
    }
    for (const group of this.groups.values()) void this.drain(group);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const group: Group = this.groups.get(options.groupId) ?? { offsets: new Map(), members: [], next: 0, draining: false };
    this.groups.set(options.groupId, group);
    for (const topic of options.topics) {
      if (!group.offsets.has(topic)) group.offsets.set(topic, options.fromBeginning ? 0 : this.log(topic).length);
    }
    const member: Member = { options, stopped: false };
    group.members.push(member);
    void this.drain(group);
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
    }
  }

  private log(topic: string): EventMessage[] {
    let log = this.topics.get(topic);
    if (!log) {
      log = [];
      this.topics.set(topic, log);
    }
    return log;
  }

  /** Delivers every pending message of the group, one at a time, to members in turn. */
  private async drain(group: Group): Promise<void> {
    if (group.draining) return;
    group.draining = true;
    try {
      let delivered = true;
      while (delivered) {
        delivered = false;
        for (const [topic, offset] of group.offsets) {
          const message = this.log(topic)[offset];
          const member = this.pickMember(group, topic);
          if (!message || !member) continue;
          await this.deliver(member, message);
          group.offsets.set(topic, offset + 1);
          delivered = true;
        }
      }
    } finally {
      group.draining = false;
    }
  }

  private pickMember(group: Group, topic: string): Member | undefined {
    const candidates = group.members.filter((m) => !m.stopped && m.options.topics.includes(topic));
    if (candidates.length === 0) return undefined;
    group.next = (group.next + 1) % candidates.length;
    return candidates[group.next];
  }

  private async deliver(member: Member, message: EventMessage): Promise<void> {
    const maxAttempts = member.options.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        await member.options.handler(message);
        return;
      } catch (error) {
        if (attempt >= maxAttempts) {
          this.options.logger?.warn({ topic: message.topic, offset: message.offset, err: error }, 'message dead-lettered');
          await this.publish(message.topic + DEAD_LETTER_SUFFIX, {
            key: message.key ?? undefined,
            value: message.value,
            headers: { ...message.headers, [DLQ_ERROR_HEADER]: errorMessage(error), [DLQ_SOURCE_TOPIC_HEADER]: message.topic },
          });
          return;
        }
        if (this.retryDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * attempt));
      }
    }
  }
}
