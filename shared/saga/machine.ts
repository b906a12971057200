/**
 * The saga state machine as pure functions: given a record, an event and the time, the next record
 * and the commands to send. The orchestrator persists and sends; this decides.
 */
import type { OutboxEntry, SagaAction, SagaDefinition, SagaRecord, SagaReply, StepGiveUp, StepRecord } from './types';
import { attemptDeadline, attemptsLeft, backoffAfter, deadlineError, failureKind, phaseDeadlineMs } from './deadlines';

export type Dispatch = OutboxEntry;

export interface Transition<Input> {
  record: SagaRecord<Input>;
  /** Commands to send now (the record already marks them dispatched). */
  dispatch: Dispatch[];
}

export function createRecord<Input>(definition: SagaDefinition<Input>, id: string, input: Input, now: number, correlationId?: string): SagaRecord<Input> {
  const at = new Date(now).toISOString();
  return {
    id,
    definition: definition.name,
    state: 'PENDING',
    input,
    results: {},
    steps: definition.steps.map((step) => ({ name: step.name, state: 'PENDING', attempts: 0 })),
    cursor: 0,
    createdAt: at,
    updatedAt: at,
    revision: 0,
    correlationId,
  };
}

/** PENDING → RUNNING with the first command sent. */
export function begin<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, now: number): Transition<Input> {
  return startPhase(definition, touch(record, now), 0, 'command', now);
}

/** Applies a participant's reply; null when the reply is stale (a step or phase already left). */
export function applyReply<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, reply: SagaReply, now: number): Transition<Input> | null {
  const step = record.steps[reply.stepIndex];
  const expected = record.state === 'RUNNING' ? 'command' : record.state === 'COMPENSATING' ? 'compensation' : null;
  if (!step || reply.stepIndex !== record.cursor || reply.action !== expected) return null;
  if (step.state !== (expected === 'command' ? 'RUNNING' : 'COMPENSATING')) return null;
  const kind = reply.outcome === 'failure' ? failureKind(reply, expected) : null;
  // A failure to retry counts against the attempt in flight; with none in flight (the retry waits
  // out its backoff) it is a redelivery of the failure that started the wait and must not use up a retry.
  if (kind === 'retry' && !step.dispatched) return null;

  const next = touch(record, now);
  const current = next.steps[reply.stepIndex];
  if (kind === 'retry') return retryOrGiveUp(definition, next, reply.error ?? `${expected} refused`, now);
  if (kind === 'expired') return giveUp(definition, next, 'deadline', `expired at the participant: ${reply.error ?? 'its deadline passed'}`, now);
  if (expected === 'command') {
    if (kind === null) {
      Object.assign(current, settled('SUCCEEDED'));
      next.results[current.name] = reply.result ?? null;
      return reply.stepIndex + 1 < definition.steps.length ? startPhase(definition, next, reply.stepIndex + 1, 'command', now) : finish(next, 'COMPLETED');
    }
    if (kind === 'uncertain') {
      // It may have applied (an outside call's outcome is unknown): undo it too, as after a timeout.
      Object.assign(current, settled('TIMED_OUT'), { error: reply.error ?? 'outcome unknown', gaveUp: 'refused' });
      return compensateFrom(definition, next, reply.stepIndex, now);
    }
    // A refusal: the command did not apply, so only earlier steps need undoing.
    Object.assign(current, settled('FAILED'), { error: reply.error ?? 'refused', gaveUp: 'refused' });
    return compensateFrom(definition, next, reply.stepIndex - 1, now);
  }
  if (kind === null) {
    Object.assign(current, settled('COMPENSATED'));
    return compensateFrom(definition, next, reply.stepIndex - 1, now);
  }
  return giveUp(definition, next, 'refused', reply.error ?? 'compensation refused', now);
}

/** Sends what is due and times out what is overdue. Null when nothing changes. */
export function tick<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, now: number): Transition<Input> | null {
  if (record.state !== 'RUNNING' && record.state !== 'COMPENSATING') return null;
  const index = record.cursor;
  const step = record.steps[index];
  const action: SagaAction = record.state === 'RUNNING' ? 'command' : 'compensation';
  if (!step.dispatched && (step.dispatchAt ?? 0) <= now) {
    const next = touch(record, now);
    // A record written before deadlines gets its phase's deadline from now.
    const expiresAt = step.expiresAt ?? now + phaseDeadlineMs(definition, index, action);
    // A sweep late past the deadline sends nothing: the phase is over.
    if (expiresAt <= now) return giveUp(definition, next, 'deadline', deadlineError(definition, index, action, step.attempts - 1, step.error), now);
    Object.assign(next.steps[index], { dispatched: true, expiresAt, deadline: attemptDeadline(definition, index, now, expiresAt) });
    return { record: next, dispatch: [{ stepIndex: index, action, attempt: step.attempts }] };
  }
  if (step.dispatched && step.deadline !== undefined && step.deadline <= now) {
    return retryOrGiveUp(definition, touch(record, now), `no reply within ${definition.steps[index].timeoutMs} ms (attempt ${step.attempts})`, now);
  }
  return null;
}

/** When the record next needs a `tick`: a delayed send or a deadline. Undefined when terminal. */
export function nextWakeUp(record: SagaRecord): number | undefined {
  if (record.state !== 'RUNNING' && record.state !== 'COMPENSATING') return undefined;
  const step = record.steps[record.cursor];
  return step.dispatched ? step.deadline : (step.dispatchAt ?? 0);
}

/** The first attempt of a phase, sent now: its deadline, all attempts included, counts from here. */
function startPhase<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, index: number, action: SagaAction, now: number): Transition<Input> {
  const expiresAt = now + phaseDeadlineMs(definition, index, action);
  record.state = action === 'command' ? 'RUNNING' : 'COMPENSATING';
  record.cursor = index;
  Object.assign(record.steps[index], {
    state: action === 'command' ? 'RUNNING' : 'COMPENSATING',
    attempts: 1,
    dispatched: true,
    dispatchAt: now,
    expiresAt,
    deadline: attemptDeadline(definition, index, now, expiresAt),
  });
  return { record, dispatch: [{ stepIndex: index, action, attempt: 1 }] };
}

/**
 * Compensates, strictly in reverse, the steps at or before `from` that applied (or may have: timed
 * out). At the end the saga is COMPENSATED, or FAILED naming every step that could not be undone.
 */
function compensateFrom<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, from: number, now: number): Transition<Input> {
  for (let index = from; index >= 0; index--) {
    const step = record.steps[index];
    const applied = step.state === 'SUCCEEDED' || step.state === 'TIMED_OUT';
    if (!applied) continue;
    if (!definition.steps[index].compensation) {
      Object.assign(step, settled('COMPENSATED'));
      continue;
    }
    return startPhase(definition, record, index, 'compensation', now);
  }
  const notUndone = record.steps.filter((step) => step.state === 'COMPENSATION_FAILED').map((step) => step.name);
  if (notUndone.length === 0) return finish(record, 'COMPENSATED');
  record.error = `could not undo ${notUndone.join(', ')}`;
  return finish(record, 'FAILED');
}

/** After a failed or timed-out attempt: another attempt after a backoff, if one can start before the deadline (and the count allows); else the phase gives up. */
function retryOrGiveUp<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, error: string, now: number): Transition<Input> {
  const index = record.cursor;
  const step = record.steps[index];
  const action: SagaAction = record.state === 'RUNNING' ? 'command' : 'compensation';
  const expiresAt = step.expiresAt ?? now + phaseDeadlineMs(definition, index, action);
  if (!attemptsLeft(definition, index, action, step.attempts)) return giveUp(definition, record, 'attempts', error, now);
  const dispatchAt = now + backoffAfter(definition, index, step.attempts);
  if (dispatchAt >= expiresAt) return giveUp(definition, record, 'deadline', deadlineError(definition, index, action, step.attempts, error), now);
  Object.assign(step, { attempts: step.attempts + 1, error, dispatched: false, dispatchAt, deadline: undefined, expiresAt });
  return { record, dispatch: [] };
}

/**
 * The cursor's phase is over without success. A command may have applied before it went quiet:
 * it is undone too (compensations tolerate "nothing to undo"). A compensation that cannot be made
 * does not stop the others: every earlier step is still undone, and the saga ends FAILED.
 */
function giveUp<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, why: StepGiveUp, error: string, now: number): Transition<Input> {
  const index = record.cursor;
  const step = record.steps[index];
  if (record.state === 'RUNNING') {
    Object.assign(step, settled('TIMED_OUT'), { error, gaveUp: why });
    return compensateFrom(definition, record, index, now);
  }
  Object.assign(step, settled('COMPENSATION_FAILED'), { error, gaveUp: why });
  return compensateFrom(definition, record, index - 1, now);
}

function finish<Input>(record: SagaRecord<Input>, state: 'COMPLETED' | 'COMPENSATED' | 'FAILED'): Transition<Input> {
  record.state = state;
  return { record, dispatch: [] };
}

function settled(state: StepRecord['state']): Partial<StepRecord> {
  return { state, dispatched: undefined, dispatchAt: undefined, deadline: undefined, expiresAt: undefined };
}

function touch<Input>(record: SagaRecord<Input>, now: number): SagaRecord<Input> {
  const next = structuredClone(record);
  next.updatedAt = new Date(now).toISOString();
  next.revision += 1;
  return next;
}
