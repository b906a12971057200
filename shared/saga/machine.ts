/**
 * The saga state machine as pure functions: given a record, an event and the time, the next record
 * and the commands to send. The orchestrator persists and sends; this decides.
 */
import type { OutboxEntry, SagaAction, SagaDefinition, SagaRecord, SagaReply, StepDefinition, StepRecord } from './types';

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
  const next = touch(record, now);
  next.state = 'RUNNING';
  return runStep(definition, next, 0, now);
}

/** Applies a participant's reply; null when the reply is stale (a step or phase already left). */
export function applyReply<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, reply: SagaReply, now: number): Transition<Input> | null {
  const step = record.steps[reply.stepIndex];
  const expected = record.state === 'RUNNING' ? 'command' : record.state === 'COMPENSATING' ? 'compensation' : null;
  if (!step || reply.stepIndex !== record.cursor || reply.action !== expected) return null;
  if (step.state !== (expected === 'command' ? 'RUNNING' : 'COMPENSATING')) return null;
  // A refused compensation counts against the attempt in flight; with none in flight (the retry waits
  // out its backoff) it is a redelivery of the refusal that started the wait and must not use up a retry.
  if (expected === 'compensation' && reply.outcome === 'failure' && !step.dispatched) return null;

  const next = touch(record, now);
  const current = next.steps[reply.stepIndex];
  if (expected === 'command') {
    if (reply.outcome === 'success') {
      Object.assign(current, settled('SUCCEEDED'));
      next.results[current.name] = reply.result ?? null;
      return reply.stepIndex + 1 < definition.steps.length ? runStep(definition, next, reply.stepIndex + 1, now) : finish(next, 'COMPLETED');
    }
    if (reply.uncertain) {
      // It may have applied (an outside call's outcome is unknown): undo it too, as after a timeout.
      Object.assign(current, settled('TIMED_OUT'), { error: reply.error ?? 'outcome unknown' });
      return compensateFrom(definition, next, reply.stepIndex, now);
    }
    // A business refusal: the command did not apply, so only earlier steps need undoing.
    Object.assign(current, settled('FAILED'), { error: reply.error ?? 'refused' });
    return compensateFrom(definition, next, reply.stepIndex - 1, now);
  }
  if (reply.outcome === 'success') {
    Object.assign(current, settled('COMPENSATED'));
    return compensateFrom(definition, next, reply.stepIndex - 1, now);
  }
  return retryOrGiveUp(definition, next, reply.error ?? 'compensation refused', now);
}

/** Sends what is due and times out what is overdue. Null when nothing changes. */
export function tick<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, now: number): Transition<Input> | null {
  if (record.state !== 'RUNNING' && record.state !== 'COMPENSATING') return null;
  const step = record.steps[record.cursor];
  if (!step.dispatched && (step.dispatchAt ?? 0) <= now) {
    const next = touch(record, now);
    const action: SagaAction = record.state === 'RUNNING' ? 'command' : 'compensation';
    Object.assign(next.steps[record.cursor], { dispatched: true, deadline: now + definition.steps[record.cursor].timeoutMs });
    return { record: next, dispatch: [{ stepIndex: record.cursor, action, attempt: step.attempts }] };
  }
  if (step.dispatched && step.deadline !== undefined && step.deadline <= now) {
    const stepDefinition = definition.steps[record.cursor];
    return retryOrGiveUp(definition, touch(record, now), `no reply within ${stepDefinition.timeoutMs} ms (attempt ${step.attempts})`, now);
  }
  return null;
}

/** When the record next needs a `tick`: a delayed send or a deadline. Undefined when terminal. */
export function nextWakeUp(record: SagaRecord): number | undefined {
  if (record.state !== 'RUNNING' && record.state !== 'COMPENSATING') return undefined;
  const step = record.steps[record.cursor];
  return step.dispatched ? step.deadline : (step.dispatchAt ?? 0);
}

function runStep<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, index: number, now: number): Transition<Input> {
  record.cursor = index;
  Object.assign(record.steps[index], { state: 'RUNNING', attempts: 1, error: undefined, dispatched: true, dispatchAt: now, deadline: now + definition.steps[index].timeoutMs });
  return { record, dispatch: [{ stepIndex: index, action: 'command', attempt: 1 }] };
}

/** Compensates, strictly in reverse, the steps at or before `from` that applied (or may have: timed out). */
function compensateFrom<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, from: number, now: number): Transition<Input> {
  for (let index = from; index >= 0; index--) {
    const step = record.steps[index];
    const applied = step.state === 'SUCCEEDED' || step.state === 'TIMED_OUT';
    if (!applied) continue;
    if (!definition.steps[index].compensation) {
      Object.assign(step, settled('COMPENSATED'));
      continue;
    }
    record.state = 'COMPENSATING';
    record.cursor = index;
    Object.assign(step, { state: 'COMPENSATING', attempts: 1, dispatched: true, dispatchAt: now, deadline: now + definition.steps[index].timeoutMs });
    return { record, dispatch: [{ stepIndex: index, action: 'compensation', attempt: 1 }] };
  }
  return finish(record, 'COMPENSATED');
}

/** After a failed or timed-out attempt: another attempt after a backoff, or the step gives up. */
function retryOrGiveUp<Input>(definition: SagaDefinition<Input>, record: SagaRecord<Input>, error: string, now: number): Transition<Input> {
  const index = record.cursor;
  const step = record.steps[index];
  const stepDefinition: StepDefinition<Input> = definition.steps[index];
  const { retry } = stepDefinition;
  if (step.attempts < retry.maxAttempts) {
    const backoff = Math.min(retry.backoffMs * 2 ** (step.attempts - 1), retry.maxBackoffMs);
    Object.assign(step, { attempts: step.attempts + 1, error, dispatched: false, dispatchAt: now + backoff, deadline: undefined });
    return { record, dispatch: [] };
  }
  if (record.state === 'RUNNING') {
    // It may have applied before it went quiet: undo it too (compensations tolerate "nothing to undo").
    Object.assign(step, settled('TIMED_OUT'), { error });
    return compensateFrom(definition, record, index, now);
  }
  Object.assign(step, settled('COMPENSATION_FAILED'), { error });
  return finish(record, 'FAILED');
}

function finish<Input>(record: SagaRecord<Input>, state: 'COMPLETED' | 'COMPENSATED' | 'FAILED'): Transition<Input> {
  record.state = state;
  return { record, dispatch: [] };
}

function settled(state: StepRecord['state']): Partial<StepRecord> {
  return { state, dispatched: undefined, dispatchAt: undefined, deadline: undefined };
}

function touch<Input>(record: SagaRecord<Input>, now: number): SagaRecord<Input> {
  const next = structuredClone(record);
  next.updatedAt = new Date(now).toISOString();
  next.revision += 1;
  return next;
}
