/**
 * Which definition versions still have sagas in flight: what tells an operator that an old
 * version may be dropped from the orchestrators (none of its sagas left unfinished). Reads every
 * saga record, in batches, as the console's overview does; run it on demand, not per request.
 */
import type { StateStore } from '../state';
import { RECORD_PREFIX } from './keys';
import { readable } from './parking';
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

/** Unfinished sagas by definition and version, most first; a version absent here has none left. */
export async function sagasInFlightByVersion(state: StateStore): Promise<VersionInFlight[]> {
  const keys = await state.keys(RECORD_PREFIX);
  const counts = new Map<string, VersionInFlight>();
  for (let from = 0; from < keys.length; from += BATCH) {
    const stored = await state.getVersionedMany(keys.slice(from, from + BATCH));
    for (const value of stored) {
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
