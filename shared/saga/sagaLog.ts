/**
 * A read-only view of the saga records in the state store, for operators (the gateway's console):
 * the sagas in flight and the latest finished ones, each with its steps. The saga engine owns the
 * record layout (`sagaKey`), so the one reader of it from outside lives here, beside it.
 */
import type { StateStore } from '../state';
import { RECORD_PREFIX } from './orchestrator';
import { TERMINAL_STATES, type SagaRecord, type SagaState, type StepState } from './types';

export interface SagaSummary {
  id: string;
  definition: string;
  state: SagaState;
  createdAt: string;
  updatedAt: string;
  steps: Array<{ name: string; state: StepState; attempts: number; error?: string }>;
}

export interface SagaOverview {
  inFlight: SagaSummary[];
  /** The latest finished sagas, newest first. */
  finished: SagaSummary[];
  /** Records kept in the store (finished ones stay for the orchestrator's retention). */
  kept: number;
  /** Records read for this overview: at most `maxRead`, the rest were left unread. */
  read: number;
}

export interface SagaLogOptions {
  state: StateStore;
  /** Finished sagas in an overview. */
  finishedLimit?: number;
  /** Records read per overview, so a store holding a week of sagas costs a bounded read. */
  maxRead?: number;
}

export class SagaLog {
  constructor(private readonly options: SagaLogOptions) {}

  async overview(): Promise<SagaOverview> {
    const { state, finishedLimit = 20, maxRead = 500 } = this.options;
    const keys = await state.keys(RECORD_PREFIX);
    const chosen = keys.slice(0, maxRead);
    const values = await Promise.all(chosen.map((key) => state.getVersioned(key)));
    const records = values.flatMap((value) => (value ? [summary(JSON.parse(value.value) as SagaRecord)] : []));
    records.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    return {
      inFlight: records.filter((record) => !TERMINAL_STATES.has(record.state)),
      finished: records.filter((record) => TERMINAL_STATES.has(record.state)).slice(0, finishedLimit),
      kept: keys.length,
      read: chosen.length,
    };
  }
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
