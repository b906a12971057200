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
  /** Writes when the stored version equals `expectedVersion`; the new version, or null on a conflict. */
  compareAndSet(key: string, expectedVersion: number, value: string, options?: SetOptions): Promise<number | null>;
  /** All-or-nothing compare-and-set over several versioned keys; the new versions, or null if any conflicts. */
  compareAndSetMany(writes: VersionedWrite[]): Promise<number[] | null>;
  /** Keys (plain or versioned) that start with `prefix`. */
  keys(prefix: string): Promise<string[]>;

  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe>;
  close(): Promise<void>;
}
