/**
 * Parked sagas: records an orchestrator cannot drive (a definition version it was not given, a
 * definition removed by a deploy, a record it cannot read). Parking takes the record out of its
 * shard's due index and files it in the shard's parked set (a versioned key in the same hash
 * slot) in one write, so no sweeper claims it again every lease and it is logged once. A reply for
 * a parked saga is kept on its record. An orchestrator that can drive a parked saga (it has the
 * version) takes it back, on start and periodically, in one write per shard, and drives it.
 */
import type { StateStore, VersionedValue, VersionedWrite } from '../state';
import type { Logger } from '../logging';
import { DEFAULT_DUE_SHARDS, dueIndexKey, dueShardOf, LAYOUT_KEY, parkedKey, sagaKey } from './keys';
import type { SagaMetrics } from './metrics';
import { TERMINAL_STATES, type SagaRecord, type SagaReply } from './types';
import type { ParkReason } from './versions';

/** One parked saga, as the parked set of its shard keeps it (and the console shows it). */
export interface ParkedSaga {
  sagaId: string;
  reason: ParkReason;
  /** Absent when the record cannot be read. */
  definition?: string;
  version?: string;
  versionLabel?: string;
  /** When it was first parked (ms since the epoch). */
  parkedAt: number;
  /** Replies kept on its record for an orchestrator that can apply them. */
  heldReplies: number;
}

type ParkedSet = Record<string, ParkedSaga>;

/** Unparked per shard and scan, so one write stays small. */
const UNPARK_BATCH = 100;
const CONFLICT_ATTEMPTS = 20;

export interface SagaParkingOptions {
  state: StateStore;
  logger: Logger;
  shards: number;
  now: () => number;
  metrics?: SagaMetrics;
}

export class SagaParking {
  constructor(private readonly options: SagaParkingOptions) {}

  /**
   * Parks saga `id` as stored at `stored.version`, keeping `reply` on its record when given.
   * False when the record moved meanwhile: the caller reads it again and decides again.
   */
  async park(id: string, stored: VersionedValue, reason: ParkReason, reply?: SagaReply): Promise<boolean> {
    const { state, shards } = this.options;
    const shard = dueShardOf(id, shards);
    const record = readable(stored.value);
    let value = stored.value;
    if (reply && record) {
      record.heldReplies = [...(record.heldReplies ?? []), reply];
      value = JSON.stringify(record);
    }
    for (let attempt = 0; attempt < CONFLICT_ATTEMPTS; attempt++) {
      const current = await state.getVersioned(parkedKey(shard));
      const set = parkedSetOf(current);
      const already = set[id];
      set[id] = {
        sagaId: id,
        reason,
        ...(record ? { definition: record.definition, version: record.version, versionLabel: record.versionLabel } : {}),
        parkedAt: already?.parkedAt ?? this.options.now(),
        heldReplies: record?.heldReplies?.length ?? 0,
      };
      const written = await state.compareAndSetMany([
        { key: sagaKey(id, shards), expectedVersion: stored.version, value, due: { index: dueIndexKey(shard), at: null } },
        { key: parkedKey(shard), expectedVersion: current?.version ?? 0, value: JSON.stringify(set) },
      ]);
      if (written) {
        if (!already) this.announce(set[id]);
        else if (reply) this.options.logger.info({ sagaId: id, stepIndex: reply.stepIndex, action: reply.action }, 'reply kept on a parked saga for an orchestrator that has its version');
        return true;
      }
      // Which one conflicted: the record (someone moved it, decide again) or only the parked set (try again).
      const now = await state.getVersioned(sagaKey(id, shards));
      if (now?.version !== stored.version) return false;
    }
    return false;
  }

  /**
   * Takes back, in every shard, the parked sagas `canDrive` accepts, filing each due at
   * `leaseUntil` (the caller drives it now; a sweeper takes it if the caller stops), and drops
   * entries whose record ended or is gone. Returns the ids taken; counts what stays parked.
   */
  async unpark(canDrive: (record: SagaRecord) => boolean, leaseUntil: number): Promise<string[]> {
    const { state, shards } = this.options;
    const keys = Array.from({ length: shards }, (_, shard) => parkedKey(shard));
    const sets = await state.getVersionedMany(keys);
    const taken: string[] = [];
    const remaining: ParkedSaga[] = [];
    for (let shard = 0; shard < shards; shard++) {
      const current = sets[shard];
      if (!current) continue;
      const set = parkedSetOf(current);
      const ids = Object.keys(set).slice(0, UNPARK_BATCH);
      const records = await state.getVersionedMany(ids.map((id) => sagaKey(id, shards)));
      const writes: VersionedWrite[] = [];
      const chosen: string[] = [];
      ids.forEach((id, i) => {
        const stored = records[i];
        const record = stored ? readable(stored.value) : undefined;
        if (!stored || (record && TERMINAL_STATES.has(record.state))) {
          delete set[id];
          return;
        }
        if (!record || !canDrive(record)) return;
        delete set[id];
        chosen.push(id);
        writes.push({ key: sagaKey(id, shards), expectedVersion: stored.version, value: stored.value, due: { index: dueIndexKey(shard), at: leaseUntil } });
      });
      if (ids.every((id) => id in set)) {
        remaining.push(...Object.values(set));
        continue;
      }
      // One write per shard: a conflict (a park or another taker at the same moment) waits for the next scan.
      const written = await state.compareAndSetMany([...writes, { key: parkedKey(shard), expectedVersion: current.version, value: JSON.stringify(set) }]);
      remaining.push(...Object.values(written ? set : parkedSetOf(current)));
      if (written) taken.push(...chosen);
    }
    this.options.metrics?.parkedNow(remaining);
    if (taken.length > 0) this.options.logger.info({ sagas: taken.length }, 'parked sagas taken back by an orchestrator that has their version');
    return taken;
  }

  private announce(parked: ParkedSaga): void {
    this.options.metrics?.sagaParked(parked);
    const why = {
      'unknown-version': 'this orchestrator was not given its definition version; one that has it takes it back',
      'unknown-definition': 'no definition of that name is registered here (removed by a deploy?); an orchestrator that has it takes it back',
      unreadable: 'its record cannot be read; repair the record, and an orchestrator takes it back',
    }[parked.reason];
    this.options.logger.warn({ sagaId: parked.sagaId, saga: parked.definition, version: parked.version, reason: parked.reason }, `saga parked: ${why}`);
  }
}

/**
 * The parked sagas of a store, oldest first, for operators (the console's saga overview): which
 * saga, why, and which definition version it waits for. `shards` defaults to the store's layout.
 */
export async function listParkedSagas(state: StateStore, shards?: number): Promise<ParkedSaga[]> {
  const count = shards ?? (await layoutShards(state));
  const sets = await state.getVersionedMany(Array.from({ length: count }, (_, shard) => parkedKey(shard)));
  return sets.flatMap((set) => Object.values(parkedSetOf(set))).sort((a, b) => a.parkedAt - b.parkedAt);
}

/** The due-index shards of the store's layout (what the first orchestrator filed sagas in), the default before any. */
export async function layoutShards(state: StateStore): Promise<number> {
  const layout = await state.get(LAYOUT_KEY);
  return layout ? (JSON.parse(layout) as { dueShards: number }).dueShards : DEFAULT_DUE_SHARDS;
}

function parkedSetOf(stored: VersionedValue | null): ParkedSet {
  return stored ? (JSON.parse(stored.value) as ParkedSet) : {};
}

/** The record, or undefined when its text is not a saga record. */
export function readable(value: string): SagaRecord | undefined {
  try {
    const record = JSON.parse(value) as SagaRecord;
    return record && typeof record === 'object' && typeof record.definition === 'string' && Array.isArray(record.steps) ? record : undefined;
  } catch {
    return undefined;
  }
}
