/**
 * Where a kill landed among sagas, for crash and chaos tests: how many were in flight (started, not
 * terminal) and at which step, read just before the kill. A kill that hit nothing in flight tested
 * nothing, so the tests count the ones that did.
 */
import { TERMINAL_STATES, type SagaRecord } from '@trellis/kit/saga';

export interface KillLanding {
  /** What was killed and when, e.g. `kill 3 orchestrator (running)`. */
  label: string;
  /** Sagas that existed at the kill; null when they could not be read (the state store was down). */
  started: number | null;
  inFlight: number;
  /** `RUNNING chargePayment` → how many sagas in flight were there. */
  at: Record<string, number>;
}

export function landingOf(label: string, records: Array<SagaRecord | null> | null): KillLanding {
  if (!records) return { label, started: null, inFlight: 0, at: {} };
  const open = records.filter((record): record is SagaRecord => record !== null && !TERMINAL_STATES.has(record.state));
  const at: Record<string, number> = {};
  for (const record of open) {
    const where = `${record.state} ${record.steps[record.cursor].name}`;
    at[where] = (at[where] ?? 0) + 1;
  }
  return { label, started: records.filter(Boolean).length, inFlight: open.length, at };
}

export const describeLanding = (landing: KillLanding): string =>
  `${landing.label}: ${landing.started ?? 'unreadable'} started, ${landing.inFlight} in flight ${JSON.stringify(landing.at)}`;

/** The kills that landed with sagas in flight. */
export const hits = (landings: KillLanding[]): KillLanding[] => landings.filter((landing) => landing.inFlight > 0);

/** The steps (by name) that had sagas in flight at some kill. */
export const stepsHit = (landings: KillLanding[]): Set<string> => new Set(hits(landings).flatMap((landing) => Object.keys(landing.at).map((where) => where.split(' ')[1])));
