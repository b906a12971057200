/**
 * A read-only view of the sagas for operators (the sagas subgraph's `sagaOverview`, which the
 * gateway's console shows): the sagas in flight and the latest finished, each with its steps. It
 * reads only indexes the engine keeps anyway, never scanning keys: in flight from the due-index
 * shards (every unfinished saga is filed there), finished from each shard's capped recent index
 * (filed by the write that ends a saga). A read costs at most `limit` members per index and the
 * records shown, however many sagas the store holds.
 */
import { BadUserInputError } from '../errors';
import type { IndexPage, StateStore } from '../state';
import { DEFAULT_DUE_SHARDS, dueIndexKey, LEGACY_DUE_INDEX, recentIndexKey, RECENT_PER_SHARD } from './keys';
import type { SagaRecord, SagaState, StepState } from './types';
import { listParkedSagas, type ParkedSaga } from './parking';

export interface SagaSummary {
  id: string;
  definition: string;
  state: SagaState;
  createdAt: string;
  updatedAt: string;
  steps: Array<{ name: string; state: StepState; attempts: number; error?: string }>;
}

export interface SagaOverview {
  /** Sagas in flight, the next due first (the next to move: a deadline, a retry, an unsent command). */
  inFlight: SagaSummary[];
  /** The latest finished sagas, the last to finish first. */
  finished: SagaSummary[];
  /** Sagas in flight in all: more than `inFlight` holds when the limit cut the list. */
  inFlightTotal: number;
  /** Finished sagas the recent indexes hold (each shard keeps its latest `RECENT_PER_SHARD`). */
  finishedKept: number;
  /** Sagas no orchestrator running can drive (a version or definition it lacks, an unreadable record), oldest first, at most `MAX_OVERVIEW_LIMIT`. */
  parked: ParkedSaga[];
  /** Parked sagas in all. */
  parkedTotal: number;
}

export interface OverviewLimits {
  /** Sagas in flight listed, 0 to `MAX_OVERVIEW_LIMIT`. */
  inFlight?: number;
  /** Finished sagas listed, 0 to `MAX_OVERVIEW_LIMIT`. */
  finished?: number;
}

/** The most of each list one overview reads: every shard's recent index keeps this many, so the latest overall are among them. */
export const MAX_OVERVIEW_LIMIT = RECENT_PER_SHARD;
export const DEFAULT_OVERVIEW_LIMIT = 20;

export interface SagaLogOptions {
  state: StateStore;
  /** The due-index shards of the store's layout (SAGA_DUE_SHARDS). */
  dueShards?: number;
}

type Entry = IndexPage['entries'][number];

export class SagaLog {
  constructor(private readonly options: SagaLogOptions) {}

  async overview(limits: OverviewLimits = {}): Promise<SagaOverview> {
    const inFlightLimit = checkedLimit('inFlight', limits.inFlight);
    const finishedLimit = checkedLimit('finished', limits.finished);
    const { state, dueShards = DEFAULT_DUE_SHARDS } = this.options;
    const shards = Array.from({ length: dueShards }, (_, shard) => shard);
    // Sagas of the layout before shards stay in the old index until a sweeper moves them (on claim):
    // listed from there meanwhile. Those that finished before the upgrade are in no recent index.
    const dueIndexes = [...shards.map(dueIndexKey), LEGACY_DUE_INDEX];
    const [due, recent, parked] = await Promise.all([
      Promise.all(dueIndexes.map((index) => state.readIndex(index, { limit: inFlightLimit }))),
      Promise.all(shards.map((shard) => state.readIndex(recentIndexKey(shard), { limit: finishedLimit, latestFirst: true }))),
      // Out of the due index, so not in flight there: each shard's parked set is one small record.
      listParkedSagas(state, dueShards),
    ]);
    const inFlightKeys = pick(due, inFlightLimit, (a, b) => a.at - b.at);
    const finishedKeys = pick(recent, finishedLimit, (a, b) => b.at - a.at);
    const records = await state.getVersionedMany([...inFlightKeys, ...finishedKeys]);
    // A key whose record is gone (expired after its retention, or ended between the two reads) is left out.
    const summaries = records.map((stored) => (stored ? summary(JSON.parse(stored.value) as SagaRecord) : null));
    return {
      inFlight: present(summaries.slice(0, inFlightKeys.length)),
      finished: present(summaries.slice(inFlightKeys.length)),
      inFlightTotal: sizeOf(due),
      finishedKept: sizeOf(recent),
      parked: parked.slice(0, MAX_OVERVIEW_LIMIT),
      parkedTotal: parked.length,
    };
  }
}

function checkedLimit(name: string, value: number | undefined): number {
  const limit = value ?? DEFAULT_OVERVIEW_LIMIT;
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_OVERVIEW_LIMIT) {
    throw new BadUserInputError(`${name} must be a whole number from 0 to ${MAX_OVERVIEW_LIMIT}, got ${value}`);
  }
  return limit;
}

/** The first `limit` keys of the shards' pages merged in `order`, each key once. */
function pick(pages: IndexPage[], limit: number, order: (a: Entry, b: Entry) => number): string[] {
  const keys = pages
    .flatMap((page) => page.entries)
    .sort(order)
    .map((entry) => entry.key);
  return [...new Set(keys)].slice(0, limit);
}

const sizeOf = (pages: IndexPage[]) => pages.reduce((total, page) => total + page.size, 0);

function present(summaries: Array<SagaSummary | null>): SagaSummary[] {
  return summaries.filter((item): item is SagaSummary => item !== null);
}

function summary(record: SagaRecord): SagaSummary {
  return {
    id: record.id,
    definition: record.definition,
    state: record.state,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    steps: record.steps.map(({ name, state, attempts, error }) => ({ name, state, attempts, ...(error ? { error } : {}) })),
  };
}
