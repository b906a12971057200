/**
 * Runs one consumer's handlers the way Kafka orders messages: concurrently across keys, strictly in
 * order within a key, at most `maxInFlight` at once; and tracks, per partition, the offset below
 * which every message is settled (handled or dead-lettered), the only offset a bus may commit.
 * Both buses feed it in offset order; a retriable failure holds back only its key, retried here
 * from the failed message after the backoff.
 */
import { errorMessage } from '../errors';
import type { Logger } from '../logging';
import { backoffDelay, DEFAULT_BACKOFF } from '../retry';
import { onHandlerFailure } from './delivery';
import type { EventMessage, SubscribeOptions } from './types';

export const DEFAULT_MAX_IN_FLIGHT = 64;

export interface KeyedDispatcherOptions extends Pick<SubscribeOptions, 'handler' | 'maxAttempts' | 'backoff'> {
  /** Handlers running at once, over every partition of the consumer. */
  maxInFlight?: number;
  /** Puts a message that cannot be handled on its dead-letter topic; a throw retries it later. */
  deadLetter: (message: EventMessage, reason: string) => Promise<void>;
  /** A message of the partition settled: its committable offset or its pending count moved. */
  onSettled?: (topic: string, partition: number) => void;
  logger?: Logger;
}

interface Entry {
  offset: bigint;
  settled: boolean;
}

/** One partition's messages since its committable offset, in offset order. */
interface Partition {
  entries: Entry[];
  /** Index of the first entry not yet settled. */
  head: number;
  /** Offset after the last message offered; a re-fetch of anything below it is ignored. */
  nextOffered: bigint;
  unsettled: number;
}

/** The messages of one key in one partition, handled one after another. */
interface Lane {
  id: string;
  partition: Partition;
  queue: Array<{ message: EventMessage; entry: Entry }>;
  running: boolean;
  attempts: number;
  retryTimer?: NodeJS.Timeout;
}

export class KeyedDispatcher {
  private readonly partitions = new Map<string, Partition>();
  private readonly lanes = new Map<string, Lane>();
  /** Lanes whose next message may start, oldest first (fair across keys). */
  private readonly ready: Lane[] = [];
  private readonly running = new Set<Promise<void>>();
  /** Handlers not yet returned (a run leaves `running` only after it started the next one). */
  private active = 0;
  private readonly maxInFlight: number;
  private stopped = false;

  constructor(private readonly options: KeyedDispatcherOptions) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Takes the next message of its partition; false (and ignored) if stopped or already offered. */
  offer(message: EventMessage): boolean {
    if (this.stopped) return false;
    const slot = slotOf(message.topic, message.partition);
    const offset = BigInt(message.offset);
    let partition = this.partitions.get(slot);
    if (!partition) this.partitions.set(slot, (partition = { entries: [], head: 0, nextOffered: offset, unsettled: 0 }));
    if (offset < partition.nextOffered) return false;
    partition.nextOffered = offset + 1n;
    const entry: Entry = { offset, settled: false };
    partition.entries.push(entry);
    partition.unsettled += 1;
    // Unkeyed messages promise no order: each is a lane of its own.
    const id = `${slot}\u0000${message.key ?? `\u0000${message.offset}`}`;
    let lane = this.lanes.get(id);
    if (!lane) this.lanes.set(id, (lane = { id, partition, queue: [], running: false, attempts: 0 }));
    lane.queue.push({ message, entry });
    if (lane.queue.length === 1 && !lane.running && !lane.retryTimer) this.ready.push(lane);
    this.startReady();
    return true;
  }

  /** Messages of the partition offered and not settled yet (queued, running or waiting to retry). */
  pending(topic: string, partition: number): number {
    return this.partitions.get(slotOf(topic, partition))?.unsettled ?? 0;
  }

  /** The offset to commit for the partition: every message below it is settled. Undefined if none was offered. */
  committable(topic: string, partition: number): string | undefined {
    const state = this.partitions.get(slotOf(topic, partition));
    if (!state) return undefined;
    const first = state.entries[state.head];
    return String(first ? first.offset : state.nextOffered);
  }

  /** The partition went to another consumer: drop what has not started; what runs settles unrecorded. */
  forget(topic: string, partition: number): void {
    const slot = slotOf(topic, partition);
    const state = this.partitions.get(slot);
    if (!state) return;
    this.partitions.delete(slot);
    for (const lane of this.lanes.values()) {
      if (lane.partition !== state) continue;
      clearTimeout(lane.retryTimer);
      this.lanes.delete(lane.id);
    }
    this.removeFromReady((lane) => lane.partition === state);
  }

  /** Starts nothing more, drops retries and queued messages, and resolves once running handlers end. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const lane of this.lanes.values()) clearTimeout(lane.retryTimer);
    this.ready.length = 0;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private startReady(): void {
    while (!this.stopped && this.active < this.maxInFlight) {
      const lane = this.ready.shift();
      if (!lane) return;
      lane.running = true;
      this.active += 1;
      const run = this.runHead(lane).finally(() => this.running.delete(run));
      this.running.add(run);
    }
  }

  private async runHead(lane: Lane): Promise<void> {
    const { message, entry } = lane.queue[0];
    let retryInMs: number | undefined;
    try {
      await this.options.handler(message);
    } catch (error) {
      // After stop the message stays unsettled: whoever takes the partition over gets it again.
      retryInMs = this.stopped ? 0 : await this.onFailure(lane, message, error);
    }
    lane.running = false;
    this.active -= 1;
    if (this.lanes.get(lane.id) !== lane) return void this.startReady(); // forgotten meanwhile
    if (retryInMs === undefined) this.settle(lane, entry);
    else if (!this.stopped) this.scheduleRetry(lane, retryInMs);
    if (this.stopped) return;
    this.options.onSettled?.(message.topic, message.partition);
    this.startReady();
  }

  /** Dead-letters the message (undefined: settled) or says when to try it again. */
  private async onFailure(lane: Lane, message: EventMessage, error: unknown): Promise<number | undefined> {
    const attempts = lane.attempts + 1;
    lane.attempts = attempts;
    const verdict = onHandlerFailure(error, attempts, this.options);
    const where = { topic: message.topic, partition: message.partition, offset: message.offset, key: message.key };
    if ('retryInMs' in verdict) {
      if (attempts === 1 || attempts % 10 === 0) {
        this.options.logger?.warn({ ...where, attempts, retryInMs: verdict.retryInMs, err: errorMessage(error) }, 'handler failed; its key waits for the retry');
      }
      return verdict.retryInMs;
    }
    this.options.logger?.warn({ ...where, reason: verdict.deadLetter }, 'message dead-lettered');
    try {
      await this.options.deadLetter(message, verdict.deadLetter);
      return undefined;
    } catch (deadLetterError) {
      // Not recorded anywhere yet: tried again (the handler first, in case the cause is gone).
      this.options.logger?.warn({ ...where, err: errorMessage(deadLetterError) }, 'dead-lettering failed; the message is tried again');
      return backoffDelay(attempts, this.options.backoff ?? DEFAULT_BACKOFF);
    }
  }

  private scheduleRetry(lane: Lane, delayMs: number): void {
    lane.retryTimer = setTimeout(() => {
      lane.retryTimer = undefined;
      if (this.stopped || this.lanes.get(lane.id) !== lane) return;
      this.ready.push(lane);
      this.startReady();
    }, delayMs);
    lane.retryTimer.unref();
  }

  private settle(lane: Lane, entry: Entry): void {
    lane.queue.shift();
    lane.attempts = 0;
    if (lane.queue.length > 0) {
      if (!this.stopped) this.ready.push(lane);
    } else {
      this.lanes.delete(lane.id);
    }
    const state = lane.partition;
    entry.settled = true;
    state.unsettled -= 1;
    while (state.head < state.entries.length && state.entries[state.head].settled) state.head += 1;
    if (state.head > 1024 && state.head * 2 > state.entries.length) {
      state.entries.splice(0, state.head);
      state.head = 0;
    }
  }

  private removeFromReady(matches: (lane: Lane) => boolean): void {
    for (let i = this.ready.length - 1; i >= 0; i--) if (matches(this.ready[i])) this.ready.splice(i, 1);
  }
}

function slotOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}
