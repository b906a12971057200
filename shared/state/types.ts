/** The state port: small records with TTLs, versioned records for compare-and-set, and pub/sub. */

export interface SetOptions {
  /** Expire the key after this many milliseconds. */
  ttlMs?: number;
}

export interface VersionedValue {
  value: string;
  /** Starts at 1 on the first write and grows by one on each write. */
  version: number;
}

export interface VersionedWrite {
  key: string;
  /** The version the caller read; 0 means "the key must not exist yet". */
  expectedVersion: number;
  value: string;
  ttlMs?: number;
  /**
   * Files the key in a due-time index in the same atomic write: `at` is when it is next due
   * (found by `claimDue`), null takes it out. A record and its deadline never disagree.
   */
  due?: { index: string; at: number | null };
  /**
   * Files the key in a capped index of recent keys in the same atomic write, scored `at`: only the
   * `keep` highest scores stay, so the index is a bounded list of the latest (read with `readIndex`).
   */
  recent?: { index: string; at: number; keep: number };
  /**
   * Published on `channel` in the same atomic write, only when the write succeeds: subscribers
   * hear of exactly the changes that were made, and a crash cannot come between the two.
   */
  announce?: { channel: string; message: string };
}

/** A key that must be at this version (0: absent) for a `compareAndSetMany` to write anything; not written itself. */
export interface VersionCheck {
  key: string;
  expectedVersion: number;
}

export interface ClaimOptions {
  /** At most this many keys per claim. */
  limit: number;
  /** Claimed keys are pushed this far past `now`, so other claimers skip them while this one works. */
  leaseMs: number;
}

export interface IndexReadOptions {
  /** At most this many entries. */
  limit: number;
  /** Highest scores first (the latest of a recent index) rather than lowest (the soonest due). */
  latestFirst?: boolean;
}

/** A bounded read of an index (a due index or a recent index). */
export interface IndexPage {
  /** Members with their scores, in the order asked. */
  entries: Array<{ key: string; at: number }>;
  /** Members in the whole index, read or not. */
  size: number;
}

export interface Counter {
  count: number;
  /** Milliseconds until the counter's window ends. */
  ttlMs: number;
}

export type Unsubscribe = () => Promise<void>;

export interface StateStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: SetOptions): Promise<void>;
  /** Writes only when the key is absent; true when this call wrote it. */
  setIfAbsent(key: string, value: string, options?: SetOptions): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Adds one to a counter whose window (TTL) starts at its first increment: fixed-window rate limits. */
  increment(key: string, windowMs: number): Promise<Counter>;

  getVersioned(key: string): Promise<VersionedValue | null>;
  /** Several versioned keys in one round trip, in the order asked (null for a missing one): a batch of reads is one read. */
  getVersionedMany(keys: readonly string[]): Promise<Array<VersionedValue | null>>;
  /** Writes when the stored version equals `expectedVersion`; the new version, or null on a conflict. */
  compareAndSet(key: string, expectedVersion: number, value: string, options?: SetOptions): Promise<number | null>;
  /**
   * All-or-nothing compare-and-set over several versioned keys (and the due-index entries they
   * carry), guarded also by `checks`; the new versions, or null if any write or check conflicts.
   */
  compareAndSetMany(writes: VersionedWrite[], checks?: VersionCheck[]): Promise<number[] | null>;
  /**
   * Atomically takes the keys of a due-time index whose time is at or before now and moves each
   * `leaseMs` past it; two claimers never get the same key within one lease. Now is the store's
   * clock where it has one: Redis reads its own TIME inside the script, so claimers on hosts whose
   * clocks disagree still share one; the in-memory store (its clock is the caller's) takes `now`.
   */
  claimDue(index: string, now: number, options: ClaimOptions): Promise<string[]>;
  /** The store's clock, in ms since the epoch (Redis: TIME; in memory: its injected clock), so every host can time due entries by one clock. */
  time(): Promise<number>;
  /**
   * The first `limit` members of an index by score, and its size: a bounded read of one key (one
   * slot on Cluster), never a scan. Claims nothing and moves nothing.
   */
  readIndex(index: string, options: IndexReadOptions): Promise<IndexPage>;
  /** Keys (plain or versioned) that start with `prefix`. */
  keys(prefix: string): Promise<string[]>;

  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}
