/**
 * Which definition versions still have sagas in flight: what tells an operator that an old
 * version may be dropped from the orchestrators (none of its sagas left unfinished). Every
 * unfinished saga is in a due-index shard or a parked set, so it reads those and their records,
 * never scanning keys: its cost is the sagas in flight. Run it on demand, not per request.
 */
import type { StateStore } from '../state';
import { dueIndexKey, LEGACY_DUE_INDEX, sagaKey } from './keys';
import { layoutShards, listParkedSagas, readable } from './parking';
import { TERMINAL_STATES } from './types';

export interface VersionInFlight {
  definition: string;
  /** The version's digest; undefined for records written before versions (driven by the newest). */
  version?: string;
  versionLabel?: string;
  /** Its sagas not yet COMPLETED, COMPENSATED or FAILED, parked ones included. */
  inFlight: number;
}

const BATCH = 500;

/** Unfinished sagas by definition and version, most first; a version absent here has none left. `shards` defaults to the store's layout. */
export async function sagasInFlightByVersion(state: StateStore, shards?: number): Promise<VersionInFlight[]> {
  const count = shards ?? (await layoutShards(state));
  const indexes = [...Array.from({ length: count }, (_, shard) => dueIndexKey(shard)), LEGACY_DUE_INDEX];
  const filed = await Promise.all(
    indexes.map(async (index) => {
      const { size } = await state.readIndex(index, { limit: 0 });
      return size === 0 ? [] : (await state.readIndex(index, { limit: size })).entries.map((entry) => entry.key);
    }),
  );
  const parked = (await listParkedSagas(state, count)).map((saga) => sagaKey(saga.sagaId, count));
  const keys = [...new Set([...filed.flat(), ...parked])];
  const counts = new Map<string, VersionInFlight>();
  for (let from = 0; from < keys.length; from += BATCH) {
    for (const value of await state.getVersionedMany(keys.slice(from, from + BATCH))) {
      const record = value ? readable(value.value) : undefined;
      if (!record || TERMINAL_STATES.has(record.state)) continue;
      const id = JSON.stringify([record.definition, record.version ?? null]);
      const entry = counts.get(id) ?? { definition: record.definition, version: record.version, versionLabel: record.versionLabel, inFlight: 0 };
      entry.inFlight += 1;
      counts.set(id, entry);
    }
  }
  return [...counts.values()].sort((a, b) => b.inFlight - a.inFlight);
}
