/**
 * One assigned partition of a keyed consumer, whichever client fetches it: messages of different
 * keys run at once, one key's messages one at a time in offset order, at most `window` messages
 * past the first unsettled one; and the offset below which every message is settled (handled or
 * dead-lettered), the only offset a consumer may commit. Handlers start only while the partition
 * is open (while the client's batch callback runs), so a client that waits for that callback
 * before it gives the partition up never has one of its handlers running afterwards.
 */
import type { EventMessage } from '../types';

/** How one attempt at a message ended: settled, or to be tried again after a wait. */
export type DeliveryOutcome = 'settled' | { retryInMs: number };
/** One attempt at a message (`attempt` counts from 1); never rejects. */
export type Deliver = (message: EventMessage, attempt: number) => Promise<DeliveryOutcome>;

/** Messages of one partition taken past its first unsettled one, by default (as on the embedded bus). */
export const DEFAULT_WINDOW = 256;

/** What `offer` did with a message: took it, already had it (a fetch from before it), or had no room. */
export type OfferResult = 'taken' | 'known' | 'full';

export interface KeyedPartitionOptions {
  deliver: Deliver;
  /** Most messages past the first unsettled one (settled ones after it count: they cannot be committed yet). */
  window: number;
  /** A retry came due while the partition was closed: the client should open it again (fetch it). */
  onDue?: () => void;
  /** Runs `callback` after `ms`; returns a cancel. Injected so tests drive time. */
  setTimer?: (callback: () => void, ms: number) => () => void;
}

interface Entry {
  offset: bigint;
  settled: boolean;
}

/** The messages of one key taken and not yet settled, oldest first; the head is the one running or waiting to retry. */
interface Lane {
  key: string;
  queue: Array<{ message: EventMessage; entry: Entry }>;
  running: boolean;
  /** Failed attempts at the head so far. */
  attempts: number;
  /** Cancels the wait before the head's next attempt. */
  cancelWait?: () => void;
}

/** Messages without a key share one lane: they keep the partition's order among themselves, as on the embedded bus. */
const NO_KEY = '\u0000';

const realTimer = (callback: () => void, ms: number) => {
  const timer = setTimeout(callback, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

export class KeyedPartition {
  /** Taken messages from the first unsettled one on, in offset order (settled ones kept until the head passes them). */
  private entries: Entry[] = [];
  private head = 0;
  /** The offset after the last message taken. */
  private after?: bigint;
  private readonly lanes = new Map<string, Lane>();
  /** Lanes whose retry came due while closed: they start when the partition opens. */
  private readonly due = new Set<Lane>();
  private runningCount = 0;
  private isOpen = false;
  private isRevoked = false;
  private waiters: Array<() => void> = [];
  private readonly setTimer: (callback: () => void, ms: number) => () => void;

  constructor(private readonly options: KeyedPartitionOptions) {
    this.setTimer = options.setTimer ?? realTimer;
  }

  /** Handlers running now. */
  get running(): number {
    return this.runningCount;
  }

  get revoked(): boolean {
    return this.isRevoked;
  }

  /** The offset of the last message taken; undefined before the first. */
  get lastTaken(): string | undefined {
    return this.after === undefined ? undefined : String(this.after - 1n);
  }

  /** Every message below this offset is settled; undefined before the first message is taken. */
  get committable(): string | undefined {
    if (this.after === undefined) return undefined;
    return String(this.head < this.entries.length ? this.entries[this.head].offset : this.after);
  }

  /** Whether a retry waits to start (due or not): the messages after it stay uncommitted. */
  get hasRetries(): boolean {
    for (const lane of this.lanes.values()) if (lane.attempts > 0) return true;
    return false;
  }

  /** Takes the next message of the partition, in offset order; messages below the last taken one are known already. */
  offer(message: EventMessage): OfferResult {
    const offset = BigInt(message.offset);
    if (this.after !== undefined && offset < this.after) return 'known';
    if (this.isRevoked || this.entries.length - this.head >= this.options.window) return 'full';
    this.after = offset + 1n;
    const entry: Entry = { offset, settled: false };
    this.entries.push(entry);
    const key = message.key ?? NO_KEY;
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { key, queue: [], running: false, attempts: 0 }));
    lane.queue.push({ message, entry });
    if (lane.queue.length === 1 && this.isOpen) this.start(lane);
    return 'taken';
  }

  /** Lets handlers start: what is queued and every retry that came due meanwhile. */
  open(): void {
    if (this.isRevoked) return;
    this.isOpen = true;
    for (const lane of this.due) this.start(lane);
    this.due.clear();
    for (const lane of this.lanes.values()) if (!lane.running && lane.attempts === 0) this.start(lane);
  }

  /** Starts nothing more; what runs finishes (see `idle`). */
  close(): void {
    this.isOpen = false;
  }

  /** The partition went elsewhere: nothing starts again, waits are cancelled, outcomes of what still runs are dropped. */
  revoke(): void {
    this.isOpen = false;
    this.isRevoked = true;
    for (const lane of this.lanes.values()) lane.cancelWait?.();
    this.due.clear();
    this.notify();
  }

  /** Resolves at the next change: a message settled, failed, or a retry came due. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once no handler of this partition runs. */
  async idle(): Promise<void> {
    while (this.runningCount > 0) await this.changed();
  }

  private start(lane: Lane): void {
    if (lane.running || lane.queue.length === 0) return;
    lane.running = true;
    this.runningCount += 1;
    const { message, entry } = lane.queue[0];
    void this.options
      .deliver(message, lane.attempts + 1)
      // A deliver that breaks its promise not to reject: tried again, never lost.
      .catch((): DeliveryOutcome => ({ retryInMs: 1000 }))
      .then((outcome) => this.finish(lane, entry, outcome));
  }

  private finish(lane: Lane, entry: Entry, outcome: DeliveryOutcome): void {
    lane.running = false;
    this.runningCount -= 1;
    if (!this.isRevoked) {
      if (outcome === 'settled') this.settle(lane, entry);
      else this.wait(lane, outcome.retryInMs);
    }
    this.notify();
  }

  private settle(lane: Lane, entry: Entry): void {
    entry.settled = true;
    lane.queue.shift();
    lane.attempts = 0;
    if (lane.queue.length === 0) this.lanes.delete(lane.key);
    else if (this.isOpen) this.start(lane);
    while (this.head < this.entries.length && this.entries[this.head].settled) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  private wait(lane: Lane, ms: number): void {
    lane.attempts += 1;
    lane.cancelWait = this.setTimer(() => {
      lane.cancelWait = undefined;
      if (this.isRevoked) return;
      if (this.isOpen) this.start(lane);
      else {
        this.due.add(lane);
        this.options.onDue?.();
      }
      this.notify();
    }, ms);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
