/** In-memory state store: the embedded default, with the same semantics as the Redis adapter. */
import type { ClaimOptions, Counter, IndexPage, IndexReadOptions, SetOptions, StateStore, Unsubscribe, VersionCheck, VersionedValue, VersionedWrite } from './types';

interface Slot {
  value: string;
  version: number;
  expiresAt?: number;
}

export interface InMemoryStateStoreOptions {
  now?: () => number;
}

export class InMemoryStateStore implements StateStore {
  private readonly slots = new Map<string, Slot>();
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private readonly dueIndexes = new Map<string, Map<string, number>>();
  private readonly now: () => number;

  constructor(options: InMemoryStateStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<void> {
    const version = (this.live(key)?.version ?? 0) + 1;
    this.slots.set(key, { value, version, expiresAt: this.expiry(options.ttlMs) });
  }

  async setIfAbsent(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    if (this.live(key)) return false;
    this.slots.set(key, { value, version: 1, expiresAt: this.expiry(options.ttlMs) });
    return true;
  }

  async delete(key: string): Promise<void> {
    this.slots.delete(key);
  }

  async increment(key: string, windowMs: number): Promise<Counter> {
    const slot = this.live(key);
    if (!slot) {
      this.slots.set(key, { value: '1', version: 1, expiresAt: this.now() + windowMs });
      return { count: 1, ttlMs: windowMs };
    }
    slot.value = String(Number(slot.value) + 1);
    slot.version += 1;
    return { count: Number(slot.value), ttlMs: Math.max(0, (slot.expiresAt ?? this.now()) - this.now()) };
  }

  async getVersioned(key: string): Promise<VersionedValue | null> {
    const slot = this.live(key);
    return slot ? { value: slot.value, version: slot.version } : null;
  }

  async getVersionedMany(keys: readonly string[]): Promise<Array<VersionedValue | null>> {
    return Promise.all(keys.map((key) => this.getVersioned(key)));
  }

  async compareAndSet(key: string, expectedVersion: number, value: string, options: SetOptions = {}): Promise<number | null> {
    const versions = await this.compareAndSetMany([{ key, expectedVersion, value, ttlMs: options.ttlMs }]);
    return versions ? versions[0] : null;
  }

  async compareAndSetMany(writes: VersionedWrite[], checks: VersionCheck[] = []): Promise<number[] | null> {
    // Single-threaded: check everything, then write everything, with no await in between.
    for (const write of [...writes, ...checks]) if ((this.live(write.key)?.version ?? 0) !== write.expectedVersion) return null;
    return writes.map((write) => {
      const version = write.expectedVersion + 1;
      this.slots.set(write.key, { value: write.value, version, expiresAt: this.expiry(write.ttlMs) });
      if (write.due) this.file(write.due.index, write.key, write.due.at);
      if (write.recent) this.fileRecent(write.recent.index, write.key, write.recent.at, write.recent.keep);
      if (write.announce) void this.publish(write.announce.channel, write.announce.message);
      return version;
    });
  }

  async claimDue(index: string, now: number, options: ClaimOptions): Promise<string[]> {
    const entries = [...(this.dueIndexes.get(index) ?? new Map<string, number>())]
      .filter(([, at]) => at <= now)
      .sort((a, b) => a[1] - b[1])
      .slice(0, options.limit);
    for (const [member] of entries) this.file(index, member, now + options.leaseMs);
    return entries.map(([member]) => member);
  }

  async time(): Promise<number> {
    return this.now();
  }

  async readIndex(index: string, options: IndexReadOptions): Promise<IndexPage> {
    const entries = this.sorted(index, options.latestFirst === true).slice(0, Math.max(0, Math.floor(options.limit)));
    return { entries: entries.map(([key, at]) => ({ key, at })), size: this.dueIndexes.get(index)?.size ?? 0 };
  }

  /** Entries by score, then member (as a Redis sorted set orders them). */
  private sorted(index: string, latestFirst: boolean): Array<[string, number]> {
    const entries = [...(this.dueIndexes.get(index) ?? new Map<string, number>())].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return latestFirst ? entries.reverse() : entries;
  }

  /** Files `member` and keeps only the `keep` highest scores. */
  private fileRecent(index: string, member: string, at: number, keep: number): void {
    this.file(index, member, at);
    const entries = this.dueIndexes.get(index) as Map<string, number>;
    for (const [stale] of this.sorted(index, true).slice(Math.max(1, Math.floor(keep)))) entries.delete(stale);
  }

  private file(index: string, member: string, at: number | null): void {
    let entries = this.dueIndexes.get(index);
    if (!entries) {
      entries = new Map();
      this.dueIndexes.set(index, entries);
    }
    if (at === null) entries.delete(member);
    else entries.set(member, at);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.slots.keys()].filter((key) => key.startsWith(prefix) && this.live(key));
  }

  async publish(channel: string, message: string): Promise<void> {
    for (const listener of [...(this.channels.get(channel) ?? [])]) queueMicrotask(() => listener(message));
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe> {
    const listeners = this.channels.get(channel) ?? new Set();
    listeners.add(onMessage);
    this.channels.set(channel, listeners);
    return async () => {
      listeners.delete(onMessage);
      if (listeners.size === 0) this.channels.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.channels.clear();
  }

  private live(key: string): Slot | undefined {
    const slot = this.slots.get(key);
    if (slot?.expiresAt !== undefined && slot.expiresAt <= this.now()) {
      this.slots.delete(key);
      return undefined;
    }
    return slot;
  }

  private expiry(ttlMs: number | undefined): number | undefined {
    return ttlMs === undefined ? undefined : this.now() + ttlMs;
  }
}
