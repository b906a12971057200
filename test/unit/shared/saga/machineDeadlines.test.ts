/**
 * The state machine's deadline rules, with time as plain numbers: each phase (command,
 * compensation) is retried until its own schedule-to-close deadline, not a count; refusals,
 * retriable failures and expired commands are told apart; a compensation that cannot be made does
 * not stop the others; records written before deadlines still move.
 */
import { applyReply, begin, createRecord, nextWakeUp, tick, type Transition } from '@trellis/kit/internal/saga/machine';
import { DEFAULT_STEP_DEADLINES, type SagaDefinition, type SagaRecord, type SagaReply, type StepDefinition } from '@trellis/kit/internal/saga/types';

type Saga = SagaRecord<unknown>;
const T0 = 1_700_000_000_000;
const RESERVE = 0;
const CHARGE = 1;
const SHIP = 2;

const step = (name: string, extra: Partial<StepDefinition<unknown>> = {}): StepDefinition<unknown> => ({
  name,
  participant: name,
  command: `do-${name}`,
  compensation: `undo-${name}`,
  payload: () => ({}),
  timeoutMs: 1000,
  retry: { backoffMs: 100, maxBackoffMs: 400 },
  ...extra,
});

// reserve: the definition's deadlines; charge: its own; ship: its own command deadline, the definition's compensation one.
const saga: SagaDefinition<unknown> = {
  name: 'order',
  deadlines: { commandMs: 5_000, compensationMs: 30_000 },
  steps: [step('reserve'), step('charge', { deadlines: { commandMs: 3_500, compensationMs: 4_000 } }), step('ship', { deadlines: { commandMs: 2_000 } })],
};

function moved(transition: Transition<unknown> | null): Transition<unknown> {
  expect(transition).not.toBeNull();
  return transition as Transition<unknown>;
}

const reply = (record: Saga, now: number, fields: Partial<SagaReply>, definition = saga) =>
  applyReply(definition, record, { sagaId: record.id, stepIndex: record.cursor, action: record.state === 'COMPENSATING' ? 'compensation' : 'command', outcome: 'failure', ...fields }, now);
const ok = (record: Saga, now: number, definition = saga) => moved(reply(record, now, { outcome: 'success' }, definition)).record;

function started(definition = saga, now = T0): Saga {
  return moved(begin(definition, createRecord(definition, 'saga-1', {}, now), now)).record;
}

/** reserve and charge done, ship in flight since `now`. */
function shipping(now = T0): Saga {
  return ok(ok(started(saga, now), now), now);
}

/** Times out every attempt of the cursor's phase, sending each retry when due, until the phase is over. */
function exhaust(record: Saga): { record: Saga; attempts: number; sends: number[] } {
  const index = record.cursor;
  const phase = record.state;
  const sends = [record.steps[index].dispatchAt as number];
  let attempts = 1;
  for (;;) {
    record = moved(tick(saga, record, record.steps[index].deadline as number)).record;
    if (record.state !== phase || record.cursor !== index || record.steps[index].state === 'COMPENSATION_FAILED') return { record, attempts, sends };
    const at = record.steps[index].dispatchAt as number;
    record = moved(tick(saga, record, at)).record;
    sends.push(at);
    attempts += 1;
  }
}

describe('phase deadlines', () => {
  it('come from the step, else the definition, else the kit, and each phase counts its own from its start', () => {
    const record = started();
    expect(record.steps[RESERVE].expiresAt).toBe(T0 + 5_000);
    const charging = ok(record, T0 + 10);
    expect(charging.steps[CHARGE].expiresAt).toBe(T0 + 10 + 3_500);
    const refunding = moved(reply(ok(charging, T0 + 20), T0 + 30, { error: 'no courier' })).record;
    expect(refunding.steps[SHIP]).toMatchObject({ state: 'FAILED', gaveUp: 'refused', error: 'no courier' });
    expect(refunding.steps[CHARGE]).toMatchObject({ state: 'COMPENSATING', expiresAt: T0 + 30 + 4_000 });
    const releasing = ok(refunding, T0 + 40);
    expect(releasing.steps[RESERVE]).toMatchObject({ state: 'COMPENSATING', expiresAt: T0 + 40 + 30_000 });

    const bare: SagaDefinition<unknown> = { name: 'bare', steps: [step('only')] };
    const only = started(bare);
    expect(only.steps[0].expiresAt).toBe(T0 + DEFAULT_STEP_DEADLINES.commandMs);
    const undoing = moved(tick(bare, only, T0 + DEFAULT_STEP_DEADLINES.commandMs)).record;
    expect(undoing.steps[0]).toMatchObject({ state: 'COMPENSATING', expiresAt: T0 + DEFAULT_STEP_DEADLINES.commandMs + DEFAULT_STEP_DEADLINES.compensationMs });
    expect(DEFAULT_STEP_DEADLINES).toEqual({ commandMs: 60_000, compensationMs: 86_400_000 });
  });

  it('retry a command with no maxAttempts until its deadline, then give it up TIMED_OUT and undo it too', () => {
    const { record, attempts, sends } = exhaust(shipping(T0));
    // 1000 ms attempts: the second, sent after a 100 ms wait, is cut short at the 2000 ms deadline and nothing follows.
    expect(sends).toEqual([T0, T0 + 1100]);
    expect(attempts).toBe(2);
    expect(record.steps[SHIP]).toMatchObject({ state: 'COMPENSATING', gaveUp: 'deadline', error: 'deadline of 2000 ms passed after 2 attempt(s); last: no reply within 1000 ms (attempt 2)' });
    expect(record.updatedAt).toBe(new Date(T0 + 2000).toISOString());
  });

  it('cut the last attempt short: an attempt never times out after the deadline', () => {
    const record = shipping(T0);
    const waiting = moved(tick(saga, record, T0 + 1000)).record;
    const resent = moved(tick(saga, waiting, T0 + 1100)).record;
    // 1100 + 1000 would be 2100: the phase ends at 2000.
    expect(resent.steps[SHIP]).toMatchObject({ dispatched: true, deadline: T0 + 2000, expiresAt: T0 + 2000 });
    expect(nextWakeUp(resent)).toBe(T0 + 2000);
    expect(tick(saga, resent, T0 + 1999)).toBeNull();
  });

  it('start a retry only if it can start before the deadline: a backoff ending exactly at it gives up', () => {
    // ship: 1000 ms timeout, 2000 ms deadline. A retriable failure at 1899 would wait 100 ms, to 1999: retried.
    const early = moved(reply(shipping(T0), T0 + 1899, { retriable: true, error: 'busy' })).record;
    expect(early.steps[SHIP]).toMatchObject({ state: 'RUNNING', attempts: 2, dispatched: false, dispatchAt: T0 + 1999, error: 'busy' });
    // At 1900 the wait would end at 2000, the deadline: given up at once.
    const late = moved(reply(shipping(T0), T0 + 1900, { retriable: true, error: 'busy' })).record;
    expect(late.steps[SHIP]).toMatchObject({ state: 'COMPENSATING', gaveUp: 'deadline', error: 'deadline of 2000 ms passed after 1 attempt(s); last: busy' });
  });

  it('send nothing when a sweep comes only after the deadline: the phase is over', () => {
    const waiting = moved(tick(saga, shipping(T0), T0 + 1000)).record;
    const over = moved(tick(saga, waiting, T0 + 2000));
    expect(over.dispatch).toEqual([{ stepIndex: SHIP, action: 'compensation', attempt: 1 }]);
    expect(over.record.steps[SHIP]).toMatchObject({ state: 'COMPENSATING', gaveUp: 'deadline', error: 'deadline of 2000 ms passed after 1 attempt(s); last: no reply within 1000 ms (attempt 1)' });
  });

  it('still let maxAttempts end a command early, saying so', () => {
    const capped: SagaDefinition<unknown> = { ...saga, steps: [step('reserve', { retry: { maxAttempts: 2, backoffMs: 100, maxBackoffMs: 400 } })] };
    let record = started(capped);
    record = moved(tick(capped, record, T0 + 1000)).record;
    record = moved(tick(capped, record, T0 + 1100)).record;
    const gaveUp = moved(tick(capped, record, T0 + 2100)).record;
    expect(gaveUp.steps[0]).toMatchObject({ state: 'COMPENSATING', attempts: 1, gaveUp: 'attempts', error: 'no reply within 1000 ms (attempt 2)' });
  });
});

describe('failure replies', () => {
  it('a retriable failure of a command is retried with backoff, not taken as a refusal; its redelivery during the backoff uses up nothing', () => {
    const record = shipping(T0);
    const retrying = moved(reply(record, T0 + 10, { retriable: true, error: 'courier api down' }));
    expect(retrying.dispatch).toEqual([]);
    expect(retrying.record.steps[SHIP]).toMatchObject({ state: 'RUNNING', attempts: 2, dispatched: false, dispatchAt: T0 + 110, error: 'courier api down' });
    expect(reply(retrying.record, T0 + 20, { retriable: true, error: 'courier api down' })).toBeNull();
    // Without a message, the error still says what failed.
    expect(moved(reply(shipping(T0), T0 + 10, { retriable: true })).record.steps[SHIP].error).toBe('command refused');
    const resent = moved(tick(saga, retrying.record, T0 + 110));
    expect(resent.dispatch).toEqual([{ stepIndex: SHIP, action: 'command', attempt: 2 }]);
    expect(ok(resent.record, T0 + 200).state).toBe('COMPLETED');
  });

  it('a refusal of a command, flagged or from a participant before the flag, fails the step and undoes only the earlier ones', () => {
    for (const fields of [{ retriable: false }, {}]) {
      const refused = moved(reply(shipping(T0), T0 + 10, { ...fields, error: 'address unknown' }));
      expect(refused.record.steps[SHIP]).toMatchObject({ state: 'FAILED', gaveUp: 'refused', error: 'address unknown' });
      expect(refused.dispatch).toEqual([{ stepIndex: CHARGE, action: 'compensation', attempt: 1 }]);
    }
  });

  it('an expired command gives the step up as its deadline passed, and undoes it too (an earlier attempt may have applied), even during a backoff', () => {
    const expired = moved(reply(shipping(T0), T0 + 1990, { expired: true, error: 'do-ship expired' }));
    expect(expired.record.steps[SHIP]).toMatchObject({ state: 'COMPENSATING', gaveUp: 'deadline', error: 'expired at the participant: do-ship expired' });
    expect(expired.dispatch).toEqual([{ stepIndex: SHIP, action: 'compensation', attempt: 1 }]);

    const waiting = moved(tick(saga, shipping(T0), T0 + 1000)).record;
    const expiredWaiting = moved(reply(waiting, T0 + 1050, { expired: true }));
    expect(expiredWaiting.record.steps[SHIP]).toMatchObject({ state: 'COMPENSATING', gaveUp: 'deadline', error: 'expired at the participant: its deadline passed' });
  });

  it('an uncertain command is undone too, as refused', () => {
    const uncertain = moved(reply(shipping(T0), T0 + 10, { uncertain: true, error: 'label printer timed out' }));
    expect(uncertain.record.steps[SHIP]).toMatchObject({ state: 'COMPENSATING', gaveUp: 'refused', error: 'label printer timed out' });
    expect(moved(reply(shipping(T0), T0 + 10, { uncertain: true })).record.steps[SHIP].error).toBe('outcome unknown');
  });

  it('a compensation failure is retried when retriable, from a participant before the flag, or uncertain; given up when refused for good or expired', () => {
    const refunding = () => moved(reply(shipping(T0), T0, { error: 'no courier' })).record;
    for (const fields of [{ retriable: true }, {}, { retriable: false, uncertain: true }]) {
      expect(moved(reply(refunding(), T0 + 10, fields)).record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATING', attempts: 2, dispatched: false });
    }
    const refused = moved(reply(refunding(), T0 + 10, { retriable: false, error: 'card account closed' }));
    expect(refused.record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATION_FAILED', gaveUp: 'refused', error: 'card account closed' });
    expect(refused.dispatch).toEqual([{ stepIndex: RESERVE, action: 'compensation', attempt: 1 }]);
    const expired = moved(reply(refunding(), T0 + 10, { expired: true, error: 'undo-charge expired' }));
    expect(expired.record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATION_FAILED', gaveUp: 'deadline', error: 'expired at the participant: undo-charge expired' });
  });
});

describe('compensations that cannot be made', () => {
  it('do not stop the others: every other finished step is undone and the saga ends FAILED naming each one that could not be', () => {
    // ship times out for good; then its own undo and the refund give up at their deadlines; reserve is still released.
    let record = exhaust(shipping(T0)).record;
    expect(record.cursor).toBe(SHIP);
    const undoShip = exhaust(record);
    record = undoShip.record;
    // ship's undo has the definition's 30 s: 1000 ms attempts, waits of 100, 200, then 400 ms.
    expect(undoShip.attempts).toBe(22);
    expect(record.steps[SHIP]).toMatchObject({ state: 'COMPENSATION_FAILED', gaveUp: 'deadline' });
    expect(record).toMatchObject({ state: 'COMPENSATING', cursor: CHARGE });
    record = exhaust(record).record;
    expect(record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATION_FAILED', gaveUp: 'deadline' });
    expect(record).toMatchObject({ state: 'COMPENSATING', cursor: RESERVE });
    const done = ok(record, T0 + 100_000);
    expect(done).toMatchObject({ state: 'FAILED', error: 'could not undo charge, ship' });
    expect(done.steps.map((s) => s.state)).toEqual(['COMPENSATED', 'COMPENSATION_FAILED', 'COMPENSATION_FAILED']);
  });

  it('when every step is undone, the saga is COMPENSATED with no error', () => {
    let record = moved(reply(shipping(T0), T0, { error: 'no courier' })).record;
    record = ok(ok(record, T0 + 1), T0 + 2);
    expect(record.state).toBe('COMPENSATED');
    expect(record.error).toBeUndefined();
  });
});

describe('a record written before deadlines', () => {
  const legacy = (record: Saga): Saga => ({ ...record, steps: record.steps.map(({ expiresAt: _gone, ...rest }) => rest) });

  it('in flight gets its phase deadline from the first decision after the upgrade', () => {
    const record = legacy(shipping(T0));
    const retrying = moved(tick(saga, record, T0 + 1000)).record;
    expect(retrying.steps[SHIP]).toMatchObject({ attempts: 2, dispatchAt: T0 + 1100, expiresAt: T0 + 1000 + 2000 });
  });

  it('waiting out a backoff with no error recorded says so when a late sweep gives it up', () => {
    const waiting = legacy(moved(tick(saga, shipping(T0), T0 + 1000)).record);
    const { error: _none, ...quiet } = waiting.steps[SHIP];
    const record = { ...waiting, steps: waiting.steps.map((s, i) => (i === SHIP ? quiet : s)) };
    // No deadline recorded: it gets one from this sweep, so it sends; with one recorded and passed, it gives up.
    expect(moved(tick(saga, record, T0 + 1100)).dispatch).toEqual([{ stepIndex: SHIP, action: 'command', attempt: 2 }]);
    const passed = { ...record, steps: record.steps.map((s, i) => (i === SHIP ? { ...s, expiresAt: T0 + 1100 } : s)) };
    expect(moved(tick(saga, passed, T0 + 1100)).record.steps[SHIP].error).toBe('deadline of 2000 ms passed after 1 attempt(s); last: none');
  });

  it('waiting out a backoff gets it when its retry is sent', () => {
    const waiting = legacy(moved(tick(saga, shipping(T0), T0 + 1000)).record);
    const resent = moved(tick(saga, waiting, T0 + 1100)).record;
    expect(resent.steps[SHIP]).toMatchObject({ dispatched: true, expiresAt: T0 + 1100 + 2000, deadline: T0 + 2100 });
  });
});
