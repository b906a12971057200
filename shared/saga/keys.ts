/**
 * Where sagas live in the state store, laid out for Redis Cluster, where one atomic write touches
 * one hash slot. The due-time index is split into shards (`saga:due:{saga:k}`), a saga filed in
 * shard hash(id) mod N; its record carries the same hash tag, so the record and its due entry are
 * one write. A participant's dedupe records of one saga share the tag `{saga:<id>}`. The
 * idempotency key of a start is a key of its own: the orchestrator writes it first and the record
 * second (orchestrator.ts). Records and the index of the layout before shards (`saga:record:<id>`,
 * `saga:due`) are still read, and moved to this layout when found, so an upgrade loses no saga.
 */
import { createHash } from 'node:crypto';

/** Due-index shards when none are configured (SAGA_DUE_SHARDS). */
export const DEFAULT_DUE_SHARDS = 16;

/** Records, and the due index, of the layout before shards. */
export const LEGACY_DUE_INDEX = 'saga:due';
export const RECORD_PREFIX = 'saga:record:';
export const legacySagaKey = (id: string) => `${RECORD_PREFIX}${id}`;

/** The layout a store was first used with: every orchestrator on it must use the same shard count. */
export const LAYOUT_KEY = 'saga:layout';

/** The shard of a saga: a stable hash of its id, so every process finds it without asking. */
export function dueShardOf(id: string, shards: number): number {
  return createHash('sha1').update(id).digest().readUInt32BE(0) % shards;
}

/** The hash tag of shard `shard`: its due index and the records filed in it share one slot. */
const shardTag = (shard: number) => `{saga:${shard}}`;

export const dueIndexKey = (shard: number) => `saga:due:${shardTag(shard)}`;

/** The sagas of shard `shard` that no orchestrator may claim now (parking.ts): in the slot of the shard's records, so parking is one write. */
export const parkedKey = (shard: number) => `saga:parked:${shardTag(shard)}`;

/**
 * The finished sagas of shard `shard`, latest first: filed, and trimmed to `RECENT_PER_SHARD`, in the
 * write that ends a saga, so operators list what finished without a scan (sagaLog.ts).
 */
export const recentIndexKey = (shard: number) => `saga:recent:${shardTag(shard)}`;

/** Finished sagas kept in each shard's recent index: at least the most an overview lists. */
export const RECENT_PER_SHARD = 100;

/** The record of saga `id`: in the slot of its due shard. */
export const sagaKey = (id: string, shards: number = DEFAULT_DUE_SHARDS) => `${RECORD_PREFIX}${shardTag(dueShardOf(id, shards))}:${id}`;

/** The saga id of a due-index member: a record key of this layout or the legacy one. */
export function sagaIdOfKey(key: string): string {
  const rest = key.slice(RECORD_PREFIX.length);
  const tagged = /^\{saga:\d+\}:/.exec(rest);
  return tagged ? rest.slice(tagged[0].length) : rest;
}

/** The hash tag of one saga's participant records (dedupe, once): a participant may put its own keys of this saga in the same slot. */
export const sagaHashTag = (sagaId: string) => `{saga:${sagaId}}`;

export const sagaChannel = (id: string) => `saga:${id}`;
export const idempotencyKey = (scope: string, key: string) => `saga:idempotency:${scope}:${key}`;
