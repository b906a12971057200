/** The saga state machine as a user of sagas sees it: which commands go out, when, and how a saga ends. */
import { applyReply, begin, createRecord, nextWakeUp, tick, type SagaDefinition, type SagaRecord, type SagaReply } from '../../../../shared/saga';

const T0 = 1_000_000;
const retry = { maxAttempts: 3, backoffMs: 100, maxBackoffMs: 250 };
const definition: SagaDefinition<{ amount: number }> = {
  name: 'order',
  steps: [
    { name: 'reserve', participant: 'catalog', command: 'reserve', compensation: 'release', payload: () => ({}), timeoutMs: 1000, retry },
    { name: 'notify', participant: 'mail', command: 'notify', payload: () => ({}), timeoutMs: 1000, retry }, // nothing to undo
    { name: 'charge', participant: 'payments', command: 'charge', compensation: 'refund', payload: (i) => ({ amount: i.amount }), timeoutMs: 1000, retry },
    { name: 'ship', participant: 'orders', command: 'ship', compensation: 'unship', payload: () => ({}), timeoutMs: 1000, retry },
  ],
};

const reply = (stepIndex: number, action: 'command' | 'compensation', outcome: 'success' | 'failure', extra: Partial<SagaReply> = {}): SagaReply => ({
  sagaId: 's',
  stepIndex,
  action,
  outcome,
  ...extra,
});

function started(): SagaRecord<{ amount: number }> {
  return begin(definition, createRecord(definition, 's', { amount: 10 }, T0, 'corr'), T0).record;
}

/** Runs replies in turn, each required to apply; returns the last transition. */
function play(record: SagaRecord<{ amount: number }>, replies: SagaReply[], now = T0) {
  let current = { record, dispatch: [] as Array<{ stepIndex: number; action: string; attempt: number }> };
  for (const r of replies) {
    const next = applyReply(definition, current.record, r, now);
    if (!next) throw new Error(`reply ${JSON.stringify(r)} was ignored`);
    current = next;
  }
  return current;
}

describe('saga state machine', () => {
  it('creates a PENDING record, then begins RUNNING with the first command sent and its deadline set', () => {
    const created = createRecord(definition, 's', { amount: 10 }, T0, 'corr');
    expect(created).toMatchObject({ state: 'PENDING', cursor: 0, revision: 0, correlationId: 'corr', results: {} });
    expect(created.steps.map((s) => s.state)).toEqual(['PENDING', 'PENDING', 'PENDING', 'PENDING']);
    const { record, dispatch } = begin(definition, created, T0);
    expect(record.state).toBe('RUNNING');
    expect(dispatch).toEqual([{ stepIndex: 0, action: 'command', attempt: 1 }]);
    expect(record.steps[0]).toMatchObject({ state: 'RUNNING', attempts: 1, dispatched: true, deadline: T0 + 1000 });
    expect(record.revision).toBe(1);
    expect(created.state).toBe('PENDING'); // the input is never changed
  });

  it('moves step by step on success and completes with every result kept by step name', () => {
    let record = started();
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const next = applyReply(definition, record, reply(i, 'command', 'success', { result: { step: i } }), T0 + i)!;
      names.push(...next.dispatch.map((d) => `${d.stepIndex}:${d.action}`));
      expect(next.record.revision).toBe(record.revision + 1);
      record = next.record;
    }
    expect(names).toEqual(['1:command', '2:command', '3:command']);
    expect(record.state).toBe('COMPLETED');
    expect(record.results).toEqual({ reserve: { step: 0 }, notify: { step: 1 }, charge: { step: 2 }, ship: { step: 3 } });
    expect(record.steps.map((s) => s.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(nextWakeUp(record)).toBeUndefined();
    expect(tick(definition, record, T0 + 10_000)).toBeNull();
  });

  it('on a refusal undoes only the earlier steps, strictly in reverse, skipping steps with nothing to undo', () => {
    const refused = play(started(), [reply(0, 'command', 'success'), reply(1, 'command', 'success'), reply(2, 'command', 'success'), reply(3, 'command', 'failure', { error: 'no courier' })]);
    expect(refused.record.state).toBe('COMPENSATING');
    expect(refused.record.steps[3]).toMatchObject({ state: 'FAILED', error: 'no courier' });
    expect(refused.dispatch).toEqual([{ stepIndex: 2, action: 'compensation', attempt: 1 }]);
    const refundDone = play(refused.record, [reply(2, 'compensation', 'success')]);
    // notify has no compensation: settled at once, and the next undo is reserve's.
    expect(refundDone.record.steps[1].state).toBe('COMPENSATED');
    expect(refundDone.dispatch).toEqual([{ stepIndex: 0, action: 'compensation', attempt: 1 }]);
    const done = play(refundDone.record, [reply(0, 'compensation', 'success')]);
    expect(done.record.state).toBe('COMPENSATED');
    expect(done.record.steps.map((s) => s.state)).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATED', 'FAILED']);
  });

  it('a refusal of the first step ends COMPENSATED with nothing sent', () => {
    const done = play(started(), [reply(0, 'command', 'failure')]);
    expect(done.record.state).toBe('COMPENSATED');
    expect(done.dispatch).toEqual([]);
    expect(done.record.steps[0]).toMatchObject({ state: 'FAILED', error: 'refused' });
  });

  it('an uncertain failure is undone too, as after a timeout', () => {
    const uncertain = play(started(), [reply(0, 'command', 'success'), reply(1, 'command', 'success'), reply(2, 'command', 'failure', { uncertain: true, error: 'capture outcome unknown' })]);
    // Its own compensation goes out first, then the earlier steps'.
    expect(uncertain.record.steps[2]).toMatchObject({ state: 'COMPENSATING', error: 'capture outcome unknown' });
    expect(uncertain.dispatch).toEqual([{ stepIndex: 2, action: 'compensation', attempt: 1 }]);
  });

  it('times out exactly at the deadline, waits out an exponential backoff capped at the maximum, then resends', () => {
    let record = started();
    expect(nextWakeUp(record)).toBe(T0 + 1000);
    expect(tick(definition, record, T0 + 999)).toBeNull();
    const timedOut = tick(definition, record, T0 + 1000)!;
    expect(timedOut.dispatch).toEqual([]);
    expect(timedOut.record.steps[0]).toMatchObject({ state: 'RUNNING', attempts: 2, dispatched: false, dispatchAt: T0 + 1100, error: 'no reply within 1000 ms (attempt 1)' });
    record = timedOut.record;
    expect(nextWakeUp(record)).toBe(T0 + 1100);
    expect(tick(definition, record, T0 + 1099)).toBeNull();
    const resent = tick(definition, record, T0 + 1100)!;
    expect(resent.dispatch).toEqual([{ stepIndex: 0, action: 'command', attempt: 2 }]);
    expect(resent.record.steps[0]).toMatchObject({ dispatched: true, deadline: T0 + 2100 });
    // Second timeout: backoff doubles to 200.
    const again = tick(definition, resent.record, T0 + 2100)!;
    expect(again.record.steps[0]).toMatchObject({ attempts: 3, dispatchAt: T0 + 2300 });
    const capped = { ...definition, steps: definition.steps.map((s) => ({ ...s, retry: { maxAttempts: 5, backoffMs: 100, maxBackoffMs: 150 } })) };
    const third = tick(capped, again.record, T0 + 5000)!; // not yet dispatched: sends attempt 3
    const late = tick(capped, third.record, third.record.steps[0].deadline!)!;
    expect(late.record.steps[0].dispatchAt! - third.record.steps[0].deadline!).toBe(150);
  });

  it('after the last attempt times out, undoes that step too (it may have applied)', () => {
    let record = play(started(), [reply(0, 'command', 'success')]).record;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const due = nextWakeUp(record)!;
      record = tick(definition, record, due)!.record;
      if (attempt < 3) record = tick(definition, record, nextWakeUp(record)!)!.record;
    }
    // notify timed out on its last attempt: it has no compensation, so reserve is undone next.
    expect(record.steps[1]).toMatchObject({ state: 'COMPENSATED' });
    expect(record.state).toBe('COMPENSATING');
    expect(record.cursor).toBe(0);
  });

  it('retries a refused compensation and ends FAILED, never COMPENSATED, when it keeps failing', () => {
    const current = play(started(), [reply(0, 'command', 'success'), reply(1, 'command', 'failure')]);
    expect(current.dispatch).toEqual([{ stepIndex: 0, action: 'compensation', attempt: 1 }]);
    let record = current.record;
    for (let attempt = 1; attempt < 3; attempt++) {
      const refused = applyReply(definition, record, reply(0, 'compensation', 'failure', { error: 'locked' }), T0)!;
      expect(refused.record.state).toBe('COMPENSATING');
      expect(refused.record.steps[0]).toMatchObject({ attempts: attempt + 1, dispatched: false, error: 'locked' });
      record = tick(definition, refused.record, refused.record.steps[0].dispatchAt!)!.record;
      expect(record.steps[0]).toMatchObject({ dispatched: true });
    }
    const failed = applyReply(definition, record, reply(0, 'compensation', 'failure', { error: 'locked' }), T0)!;
    expect(failed.record.state).toBe('FAILED');
    expect(failed.record.steps[0]).toMatchObject({ state: 'COMPENSATION_FAILED', error: 'locked' });
    expect(applyReply(definition, failed.record, reply(0, 'compensation', 'success'), T0)).toBeNull();
  });

  it('ignores late, duplicate and misdirected replies', () => {
    const record = started();
    expect(applyReply(definition, record, reply(1, 'command', 'success'), T0)).toBeNull(); // not the current step
    expect(applyReply(definition, record, reply(0, 'compensation', 'success'), T0)).toBeNull(); // wrong phase
    const moved = play(record, [reply(0, 'command', 'success')]).record;
    expect(applyReply(definition, moved, reply(0, 'command', 'success'), T0)).toBeNull(); // duplicate
    const done = play(started(), [reply(0, 'command', 'failure')]).record;
    expect(applyReply(definition, done, reply(0, 'command', 'success'), T0)).toBeNull(); // after the end
    // A reply for a step waiting out its backoff (not dispatched) is still the current step's: it applies.
    const waiting = tick(definition, record, T0 + 1000)!.record;
    expect(applyReply(definition, waiting, reply(0, 'command', 'success'), T0 + 1001)?.record.cursor).toBe(1);
  });
});
