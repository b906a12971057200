/**
 * Gathers the publishes that are ready at about the same time into one produce request, whichever
 * client sends it: a broker spends its CPU per request, and a saga's commands and replies arrive a
 * few at a time from concurrent handlers. One request is in flight at a time; whatever is published
 * meanwhile waits for it and goes in the next, so batches grow with load and order is kept (a key's
 * messages are sent in the order they were published, never in two requests at once).
 */
import { systemClock, type Clock } from '../../saga/clock';
import type { OutgoingMessage } from '../types';
import { TimedOut } from './timeout';

/** The messages of one topic in a request. */
export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

/** Sends one request with every topic's messages and settles with its outcome; bounded in time by the client. */
export type SendBatch = (batch: TopicMessages[]) => Promise<void>;

/** The timers the coalescer needs: the platform's injected clock (a `ManualClock` in tests). */
export type CoalescerTimers = Pick<Clock, 'setTimeout'>;

export interface CoalescerOptions {
  /** How long the first publish of an empty queue waits for others to join its request (`KAFKA_LINGER_MS`). */
  lingerMs: number;
  /** Longest a publish may wait for its acknowledgement, queueing included; it fails with `TimedOut` past it. */
  timeoutMs: number;
  /** A request stops taking publishes at this estimated size; a larger single publish goes alone. */
  maxBatchBytes?: number;
  timers?: CoalescerTimers;
}

/** Below the broker's default `message.max.bytes` (1 MiB), which bounds each partition's share of a request. */
export const DEFAULT_MAX_BATCH_BYTES = 900_000;

interface Entry {
  topic: string;
  messages: OutgoingMessage[];
  bytes: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
  deadline: { clear(): void };
}

export class ProduceCoalescer {
  private readonly timers: CoalescerTimers;
  private queue: Entry[] = [];
  private queuedBytes = 0;
  private linger?: { clear(): void };
  /** The linger of the oldest queued publish has ended: send as soon as nothing is in flight. */
  private isReady = false;
  private inFlight?: Promise<void>;

  constructor(
    private readonly send: SendBatch,
    private readonly options: CoalescerOptions,
  ) {
    this.timers = options.timers ?? systemClock;
  }

  /** Resolves once the request carrying these messages is acknowledged; rejects with its error, or `TimedOut`. */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: Entry = {
        topic,
        messages,
        bytes: messages.reduce((sum, message) => sum + sizeOf(message), 0),
        settled: false,
        resolve,
        reject,
        deadline: { clear: () => undefined },
      };
      entry.deadline = this.timers.setTimeout(() => this.expire(entry), this.options.timeoutMs);
      this.queue.push(entry);
      this.queuedBytes += entry.bytes;
      // No linger, or a full request's worth queued: ready now (still one request at a time).
      if (this.options.lingerMs <= 0 || this.queuedBytes >= this.maxBatchBytes()) this.isReady = true;
      if (this.isReady) this.sendNext();
      else if (!this.linger) this.linger = this.timers.setTimeout(() => this.lingerEnded(), this.options.lingerMs);
    });
  }

  /** Sends everything queued without waiting out the linger, and resolves once every request has settled. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight) {
      this.isReady = true;
      this.sendNext();
      await this.inFlight?.catch(() => undefined);
    }
  }

  private lingerEnded(): void {
    this.linger = undefined;
    this.isReady = true;
    this.sendNext();
  }

  private sendNext(): void {
    if (this.inFlight || !this.isReady) return;
    const entries = this.take();
    if (entries.length === 0) return;
    const sending = this.sendSafely(merge(entries)).then(
      () => settleAll(entries, (entry) => entry.resolve()),
      (error: unknown) => settleAll(entries, (entry) => entry.reject(error)),
    );
    this.inFlight = sending.finally(() => {
      this.inFlight = undefined;
      // What queued meanwhile goes now if its linger is over (it usually is: a request outlasts it), else when it ends.
      this.sendNext();
    });
  }

  /** The client's send, a synchronous throw turned into a failed request. */
  private sendSafely(batch: TopicMessages[]): Promise<void> {
    try {
      return this.send(batch);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The oldest queued publishes up to the size bound (at least one); the rest stay queued. */
  private take(): Entry[] {
    const max = this.maxBatchBytes();
    const taken: Entry[] = [];
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0];
      if (taken.length > 0 && bytes + next.bytes > max) break;
      this.queue.shift();
      if (next.settled) continue;
      taken.push(next);
      bytes += next.bytes;
    }
    this.queuedBytes = this.queue.reduce((sum, entry) => sum + entry.bytes, 0);
    // A remainder left by the size bound stays ready: it waited as long as what went.
    if (this.queue.length === 0) {
      this.isReady = false;
      this.linger?.clear();
      this.linger = undefined;
    }
    return taken;
  }

  /** A publish past its deadline fails now; if still queued it is never sent. */
  private expire(entry: Entry): void {
    if (entry.settled) return;
    entry.settled = true;
    const index = this.queue.indexOf(entry);
    if (index !== -1) {
      this.queue.splice(index, 1);
      this.queuedBytes -= entry.bytes;
    }
    entry.reject(new TimedOut(`no acknowledgement within ${this.options.timeoutMs} ms`));
  }

  private maxBatchBytes(): number {
    return this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  }
}

function settleAll(entries: Entry[], settle: (entry: Entry) => void): void {
  for (const entry of entries) {
    if (entry.settled) continue;
    entry.settled = true;
    entry.deadline.clear();
    settle(entry);
  }
}

/** One list of messages per topic, each in publish order. */
function merge(entries: Entry[]): TopicMessages[] {
  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const entry of entries) {
    const messages = byTopic.get(entry.topic);
    if (messages) messages.push(...entry.messages);
    else byTopic.set(entry.topic, [...entry.messages]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Roughly what a message takes in a request: enough to keep a request under the broker's bound. */
function sizeOf(message: OutgoingMessage): number {
  let bytes = 70 + (message.key ? Buffer.byteLength(message.key) : 0) + Buffer.byteLength(message.value);
  for (const name in message.headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(message.headers[name]) + 4;
  return bytes;
}
