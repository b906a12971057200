/** The pure saga state machine: every transition, retries, timeouts, reverse compensation and stale replies, with time as plain numbers. */
import { applyReply, begin, createRecord, nextWakeUp, tick, type Transition } from '@trellis/kit/internal/saga/machine';
import type { SagaAction, SagaDefinition, SagaRecord, SagaReply } from '@trellis/kit/internal/saga/types';

interface OrderInput {
  orderId: string;
}
type Saga = SagaRecord<OrderInput>;

const RESERVE = 0;
const AUDIT = 1;
const CHARGE = 2;
const CREATE = 3;

// Each step has its own timeout, retry policy and deadlines, so a machine that reads the wrong step's settings fails.
const placeOrder: SagaDefinition<OrderInput> = {
  name: 'placeOrder',
  deadlines: { commandMs: 10_000, compensationMs: 20_000 },
  steps: [
    { name: 'reserveStock', participant: 'catalog', command: 'reserveStock', compensation: 'releaseStock', payload: (input) => input, timeoutMs: 1000, retry: { maxAttempts: 3, backoffMs: 100, maxBackoffMs: 150 } },
    // Nothing to undo: settled COMPENSATED without a command.
    { name: 'recordAudit', participant: 'orders', command: 'recordAudit', payload: (input) => input, timeoutMs: 500, retry: { maxAttempts: 1, backoffMs: 10, maxBackoffMs: 10 } },
    { name: 'chargePayment', participant: 'payments', command: 'chargePayment', compensation: 'refundPayment', payload: (input) => input, timeoutMs: 2000, retry: { maxAttempts: 4, backoffMs: 50, maxBackoffMs: 1000 }, deadlines: { compensationMs: 9_000 } },
    { name: 'createOrder', participant: 'orders', command: 'createOrder', compensation: 'cancelOrder', payload: (input) => input, timeoutMs: 3000, retry: { maxAttempts: 2, backoffMs: 200, maxBackoffMs: 400 } },
  ],
};

const T0 = 1_700_000_000_000;

/** The record as text, a field set to undefined included, to tell whether a call changed it. */
function serialized(record: Saga): string {
  return JSON.stringify(record, (_key, value: unknown) => (value === undefined ? '<undefined>' : value));
}

/** Runs one machine call and checks what holds for every call: the input is untouched, a transition adds exactly one revision. */
function checked(record: Saga, move: () => Transition<OrderInput> | null): Transition<OrderInput> | null {
  const before = serialized(record);
  const transition = move();
  expect(serialized(record)).toBe(before);
  if (transition) {
    expect(transition.record).not.toBe(record);
    expect(transition.record.revision).toBe(record.revision + 1);
  }
  return transition;
}

function moved(transition: Transition<OrderInput> | null): Transition<OrderInput> {
  expect(transition).not.toBeNull();
  return transition as Transition<OrderInput>;
}

function phase(record: Saga): SagaAction {
  return record.state === 'COMPENSATING' ? 'compensation' : 'command';
}

function answer(record: Saga, now: number, reply: Partial<SagaReply> = {}): Transition<OrderInput> | null {
  const full: SagaReply = { sagaId: record.id, stepIndex: record.cursor, action: phase(record), outcome: 'success', ...reply };
  return checked(record, () => applyReply(placeOrder, record, full, now));
}

const succeed = (record: Saga, now: number, result?: unknown) => moved(answer(record, now, { outcome: 'success', result }));
const refuse = (record: Saga, now: number, error?: string) => moved(answer(record, now, { outcome: 'failure', error }));
const tickAt = (record: Saga, now: number) => checked(record, () => tick(placeOrder, record, now));

function started(now = T0): Transition<OrderInput> {
  const record = createRecord(placeOrder, 'saga-1', { orderId: 'o-1' }, now - 5, 'corr-1');
  return moved(checked(record, () => begin(placeOrder, record, now)));
}

/** A saga whose steps before `index` succeeded, the last success at `now`: step `index` is in flight. */
function runningAt(index: number, now = T0): Saga {
  let record = started(now).record;
  for (let i = 0; i < index; i++) record = succeed(record, now, { from: placeOrder.steps[i].name }).record;
  return record;
}

/** Lets the current attempt of the cursor's step time out and sends the retry, `times` times; returns the record and the time reached. */
function timeOutAndRetry(record: Saga, from: number, times: number): { record: Saga; now: number } {
  let now = from;
  for (let i = 0; i < times; i++) {
    const step = record.steps[record.cursor];
    now = step.deadline as number;
    record = moved(tickAt(record, now)).record;
    now = record.steps[record.cursor].dispatchAt as number;
    record = moved(tickAt(record, now)).record;
  }
  return { record, now };
}

describe('createRecord', () => {
  it('makes a PENDING saga with every step PENDING and nothing to wake up for', () => {
    const record = createRecord(placeOrder, 'saga-1', { orderId: 'o-1' }, T0, 'corr-1');
    expect(record).toMatchObject({ id: 'saga-1', definition: 'placeOrder', state: 'PENDING', input: { orderId: 'o-1' }, results: {}, cursor: 0, revision: 0, correlationId: 'corr-1' });
    expect(record.steps.map((step) => [step.name, step.state, step.attempts])).toEqual([
      ['reserveStock', 'PENDING', 0],
      ['recordAudit', 'PENDING', 0],
      ['chargePayment', 'PENDING', 0],
      ['createOrder', 'PENDING', 0],
    ]);
    expect(record.createdAt).toBe(new Date(T0).toISOString());
    expect(record.updatedAt).toBe(record.createdAt);
    expect(nextWakeUp(record)).toBeUndefined();
    expect(tickAt(record, T0 + 1_000_000)).toBeNull();
  });
});

describe('begin', () => {
  it('moves PENDING to RUNNING and dispatches the first command, attempt 1, due at its timeout', () => {
    const { record, dispatch } = started(T0);
    expect(record.state).toBe('RUNNING');
    expect(dispatch).toEqual([{ stepIndex: RESERVE, action: 'command', attempt: 1 }]);
    expect(record.cursor).toBe(RESERVE);
    expect(record.steps[RESERVE]).toMatchObject({ state: 'RUNNING', attempts: 1, dispatched: true, deadline: T0 + 1000 });
    expect(record.steps.slice(1).map((step) => step.state)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    expect(record.revision).toBe(1);
    expect(record.updatedAt).toBe(new Date(T0).toISOString());
    expect(record.createdAt).toBe(new Date(T0 - 5).toISOString());
    expect(nextWakeUp(record)).toBe(T0 + 1000);
  });
});

describe('the happy path', () => {
  it('moves the cursor on each success, dispatches the next command with a fresh deadline, and completes with every result by step name', () => {
    let record = started(T0).record;
    const sent: Array<[number, number]> = [];
    for (let index = 0; index < placeOrder.steps.length - 1; index++) {
      const now = T0 + 10 * (index + 1);
      const next = succeed(record, now, index === AUDIT ? undefined : { step: index });
      record = next.record;
      expect(record.state).toBe('RUNNING');
      expect(record.cursor).toBe(index + 1);
      expect(record.steps[index].state).toBe('SUCCEEDED');
      expect(next.dispatch).toEqual([{ stepIndex: index + 1, action: 'command', attempt: 1 }]);
      expect(record.steps[index + 1]).toMatchObject({ state: 'RUNNING', attempts: 1, dispatched: true, deadline: now + placeOrder.steps[index + 1].timeoutMs });
      expect(nextWakeUp(record)).toBe(now + placeOrder.steps[index + 1].timeoutMs);
      sent.push([next.dispatch[0].stepIndex, record.revision]);
    }
    expect(sent).toEqual([
      [AUDIT, 2],
      [CHARGE, 3],
      [CREATE, 4],
    ]);

    const done = succeed(record, T0 + 100, { orderId: 'o-1', status: 'CONFIRMED' });
    expect(done.record.state).toBe('COMPLETED');
    expect(done.dispatch).toEqual([]);
    expect(done.record.revision).toBe(5);
    expect(done.record.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(done.record.results).toEqual({
      reserveStock: { step: RESERVE },
      recordAudit: null,
      chargePayment: { step: CHARGE },
      createOrder: { orderId: 'o-1', status: 'CONFIRMED' },
    });
    expect(nextWakeUp(done.record)).toBeUndefined();
    expect(tickAt(done.record, T0 + 1_000_000)).toBeNull();
  });
});

describe('a business refusal', () => {
  it('of the first step fails it and compensates nothing', () => {
    const { record, dispatch } = refuse(started(T0).record, T0 + 1, 'out of stock');
    expect(record.state).toBe('COMPENSATED');
    expect(dispatch).toEqual([]);
    expect(record.steps[RESERVE]).toMatchObject({ state: 'FAILED', error: 'out of stock' });
    expect(record.steps.slice(1).map((step) => step.state)).toEqual(['PENDING', 'PENDING', 'PENDING']);
  });

  it('of step k fails it and compensates steps k-1..0 only, strictly in reverse, skipping a step with nothing to undo', () => {
    let record = runningAt(CREATE, T0);
    let next = refuse(record, T0 + 10, 'address rejected');
    record = next.record;
    expect(record.steps[CREATE]).toMatchObject({ state: 'FAILED', error: 'address rejected' });
    expect(record.state).toBe('COMPENSATING');
    expect(record.cursor).toBe(CHARGE);
    expect(next.dispatch).toEqual([{ stepIndex: CHARGE, action: 'compensation', attempt: 1 }]);
    expect(record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATING', attempts: 1, dispatched: true, deadline: T0 + 10 + 2000 });
    expect(record.steps[RESERVE].state).toBe('SUCCEEDED');

    next = succeed(record, T0 + 20);
    record = next.record;
    expect(record.steps[CHARGE].state).toBe('COMPENSATED');
    // recordAudit has no compensation: settled at once, no command sent for it.
    expect(record.steps[AUDIT].state).toBe('COMPENSATED');
    expect(next.dispatch).toEqual([{ stepIndex: RESERVE, action: 'compensation', attempt: 1 }]);
    expect(record.state).toBe('COMPENSATING');
    expect(record.cursor).toBe(RESERVE);
    expect(record.steps[RESERVE]).toMatchObject({ state: 'COMPENSATING', attempts: 1, deadline: T0 + 20 + 1000 });

    next = succeed(record, T0 + 30);
    expect(next.record.state).toBe('COMPENSATED');
    expect(next.dispatch).toEqual([]);
    expect(next.record.steps.map((step) => step.state)).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATED', 'FAILED']);
    expect(nextWakeUp(next.record)).toBeUndefined();
  });

  it('of a middle step leaves the later steps PENDING and names the refusal even without a message', () => {
    const next = refuse(runningAt(CHARGE, T0), T0 + 1);
    expect(next.record.steps[CHARGE]).toMatchObject({ state: 'FAILED', error: 'refused' });
    expect(next.record.steps[AUDIT].state).toBe('COMPENSATED');
    expect(next.record.steps[CREATE].state).toBe('PENDING');
    expect(next.dispatch).toEqual([{ stepIndex: RESERVE, action: 'compensation', attempt: 1 }]);
  });
});

describe('timeouts and retries of a command', () => {
  it('fires exactly at the deadline, not a millisecond before', () => {
    const record = started(T0).record;
    expect(tickAt(record, T0 + 999)).toBeNull();
    const next = moved(tickAt(record, T0 + 1000));
    expect(next.record.steps[RESERVE]).toMatchObject({ state: 'RUNNING', attempts: 2, dispatched: false });
    expect(next.record.steps[RESERVE].error).toBe('no reply within 1000 ms (attempt 1)');
  });

  it('waits backoffMs before the second attempt, then sends it with the new attempt number and a fresh deadline', () => {
    const record = started(T0).record;
    const timedOut = moved(tickAt(record, T0 + 1000));
    expect(timedOut.dispatch).toEqual([]);
    expect(timedOut.record.state).toBe('RUNNING');
    expect(timedOut.record.steps[RESERVE].dispatchAt).toBe(T0 + 1000 + 100);
    expect(nextWakeUp(timedOut.record)).toBe(T0 + 1100);

    expect(tickAt(timedOut.record, T0 + 1099)).toBeNull();
    const resent = moved(tickAt(timedOut.record, T0 + 1100));
    expect(resent.dispatch).toEqual([{ stepIndex: RESERVE, action: 'command', attempt: 2 }]);
    expect(resent.record.steps[RESERVE]).toMatchObject({ state: 'RUNNING', attempts: 2, dispatched: true, deadline: T0 + 1100 + 1000 });
    expect(nextWakeUp(resent.record)).toBe(T0 + 2100);
    expect(tickAt(resent.record, T0 + 2099)).toBeNull();
  });

  it('takes the fresh deadline from when the retry is actually sent, however late the tick', () => {
    const timedOut = moved(tickAt(started(T0).record, T0 + 1000)).record;
    const resent = moved(tickAt(timedOut, T0 + 5_000));
    expect(resent.dispatch).toEqual([{ stepIndex: RESERVE, action: 'command', attempt: 2 }]);
    expect(resent.record.steps[RESERVE].deadline).toBe(T0 + 5_000 + 1000);
  });

  it('doubles the backoff each attempt (backoffMs * 2^(attempt-1)) with the step own policy', () => {
    let record = runningAt(CHARGE, T0);
    let now = T0;
    const waits: number[] = [];
    for (let attempt = 1; attempt < 4; attempt++) {
      now = record.steps[CHARGE].deadline as number;
      record = moved(tickAt(record, now)).record;
      expect(record.steps[CHARGE].attempts).toBe(attempt + 1);
      waits.push((record.steps[CHARGE].dispatchAt as number) - now);
      now = record.steps[CHARGE].dispatchAt as number;
      const resent = moved(tickAt(record, now));
      expect(resent.dispatch).toEqual([{ stepIndex: CHARGE, action: 'command', attempt: attempt + 1 }]);
      expect(resent.record.steps[CHARGE].deadline).toBe(now + 2000);
      record = resent.record;
    }
    expect(waits).toEqual([50, 100, 200]);
  });

  it('caps the backoff at maxBackoffMs', () => {
    const first = timeOutAndRetry(started(T0).record, T0, 1);
    const deadline = first.record.steps[RESERVE].deadline as number;
    const second = moved(tickAt(first.record, deadline)).record;
    // 100 * 2^1 = 200, capped at 150.
    expect(second.steps[RESERVE].attempts).toBe(3);
    expect(second.steps[RESERVE].dispatchAt).toBe(deadline + 150);
    expect(second.steps[RESERVE].error).toBe('no reply within 1000 ms (attempt 2)');
  });

  it('sends exactly maxAttempts commands, then marks the step TIMED_OUT and compensates it too, since it may have applied', () => {
    const { record, now } = timeOutAndRetry(started(T0).record, T0, 2);
    expect(record.steps[RESERVE]).toMatchObject({ state: 'RUNNING', attempts: 3, dispatched: true });
    const deadline = record.steps[RESERVE].deadline as number;
    expect(deadline).toBe(now + 1000);
    expect(tickAt(record, deadline - 1)).toBeNull();

    const gaveUp = moved(tickAt(record, deadline));
    expect(gaveUp.record.steps[RESERVE]).toMatchObject({ state: 'COMPENSATING', attempts: 1, dispatched: true, deadline: deadline + 1000 });
    expect(gaveUp.record.steps[RESERVE].error).toBe('no reply within 1000 ms (attempt 3)');
    expect(gaveUp.record.state).toBe('COMPENSATING');
    expect(gaveUp.dispatch).toEqual([{ stepIndex: RESERVE, action: 'compensation', attempt: 1 }]);

    const undone = succeed(gaveUp.record, deadline + 5);
    expect(undone.record.state).toBe('COMPENSATED');
    expect(undone.record.steps[RESERVE].state).toBe('COMPENSATED');
  });

  it('with maxAttempts 1 gives up at the first timeout, and a timed-out step with nothing to undo is settled without a command', () => {
    const record = runningAt(AUDIT, T0);
    const gaveUp = moved(tickAt(record, T0 + 500));
    expect(gaveUp.record.steps[AUDIT]).toMatchObject({ state: 'COMPENSATED', error: 'no reply within 500 ms (attempt 1)' });
    expect(gaveUp.dispatch).toEqual([{ stepIndex: RESERVE, action: 'compensation', attempt: 1 }]);
    expect(gaveUp.record.cursor).toBe(RESERVE);
  });

  it('compensates a timed-out later step before the earlier ones', () => {
    const { record } = timeOutAndRetry(runningAt(CHARGE, T0), T0, 3);
    const deadline = record.steps[CHARGE].deadline as number;
    const gaveUp = moved(tickAt(record, deadline));
    expect(gaveUp.dispatch).toEqual([{ stepIndex: CHARGE, action: 'compensation', attempt: 1 }]);
    expect(gaveUp.record.steps[RESERVE].state).toBe('SUCCEEDED');
    const next = succeed(gaveUp.record, deadline + 1);
    expect(next.dispatch).toEqual([{ stepIndex: RESERVE, action: 'compensation', attempt: 1 }]);
    expect(next.record.steps.map((step) => step.state)).toEqual(['COMPENSATING', 'COMPENSATED', 'COMPENSATED', 'PENDING']);
  });

  it('takes a late success of an earlier attempt that arrives during the backoff: the command did apply', () => {
    const timedOut = moved(tickAt(started(T0).record, T0 + 1000)).record;
    const next = succeed(timedOut, T0 + 1050, { reserved: 2 });
    expect(next.record.steps[RESERVE].state).toBe('SUCCEEDED');
    expect(next.record.results.reserveStock).toEqual({ reserved: 2 });
    expect(next.dispatch).toEqual([{ stepIndex: AUDIT, action: 'command', attempt: 1 }]);
  });
});

describe('a compensation that fails', () => {
  /** reserveStock, recordAudit and chargePayment done, createOrder refused: refundPayment is in flight at `now`. */
  function refunding(now = T0): Saga {
    return refuse(runningAt(CREATE, now), now, 'address rejected').record;
  }

  it('is retried after its backoff with the next attempt number, and the saga goes on when it succeeds', () => {
    const record = refunding(T0);
    const refused = refuse(record, T0 + 7, 'provider down');
    expect(refused.dispatch).toEqual([]);
    expect(refused.record.state).toBe('COMPENSATING');
    expect(refused.record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATING', attempts: 2, dispatched: false, dispatchAt: T0 + 7 + 50, error: 'provider down' });
    expect(nextWakeUp(refused.record)).toBe(T0 + 57);
    expect(tickAt(refused.record, T0 + 56)).toBeNull();

    const resent = moved(tickAt(refused.record, T0 + 57));
    expect(resent.dispatch).toEqual([{ stepIndex: CHARGE, action: 'compensation', attempt: 2 }]);
    expect(resent.record.steps[CHARGE].deadline).toBe(T0 + 57 + 2000);

    const next = succeed(resent.record, T0 + 60);
    expect(next.record.steps[CHARGE].state).toBe('COMPENSATED');
    expect(next.dispatch).toEqual([{ stepIndex: RESERVE, action: 'compensation', attempt: 1 }]);
  });

  it('names a refusal without a message', () => {
    expect(refuse(refunding(T0), T0 + 1).record.steps[CHARGE].error).toBe('compensation refused');
  });

  it('that keeps being refused is retried past maxAttempts until its own deadline, then COMPENSATION_FAILED, and the earlier steps are still undone', () => {
    let record = refunding(T0);
    const expiresAt = record.steps[CHARGE].expiresAt as number;
    expect(expiresAt).toBe(T0 + 9_000);
    let now = T0;
    let attempts = 1;
    // A participant before `retriable` refuses without the flag: a refused compensation is retried.
    for (;;) {
      const refused = refuse(record, now + 1, `refund failed ${attempts}`);
      record = refused.record;
      if (record.steps[CHARGE].state !== 'COMPENSATING') break;
      attempts += 1;
      expect(record.steps[CHARGE]).toMatchObject({ attempts, dispatched: false, expiresAt });
      now = record.steps[CHARGE].dispatchAt as number;
      record = moved(tickAt(record, now)).record;
    }
    // maxAttempts is 4: a compensation ignores it.
    expect(attempts).toBeGreaterThan(4);
    expect(record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATION_FAILED', gaveUp: 'deadline' });
    expect(record.steps[CHARGE].error).toBe(`deadline of 9000 ms passed after ${attempts} attempt(s); last: refund failed ${attempts}`);
    expect(record.steps[CHARGE].expiresAt).toBeUndefined();
    // No retry could start before the deadline: the backoff (capped at 1000) would end at or past it.
    expect(now + 1 + 1000).toBeGreaterThanOrEqual(expiresAt);
    // The refund that cannot be made does not leave the stock reserved.
    expect(record.state).toBe('COMPENSATING');
    expect(record.cursor).toBe(RESERVE);
    expect(record.steps[AUDIT].state).toBe('COMPENSATED');
    expect(record.steps[RESERVE]).toMatchObject({ state: 'COMPENSATING', attempts: 1, expiresAt: now + 1 + 20_000 });
    const failed = succeed(record, now + 2);
    expect(failed.record.state).toBe('FAILED');
    expect(failed.record.error).toBe('could not undo chargePayment');
    expect(failed.record.steps.map((step) => step.state)).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATION_FAILED', 'FAILED']);
    expect(failed.dispatch).toEqual([]);
    expect(nextWakeUp(failed.record)).toBeUndefined();
    expect(tickAt(failed.record, now + 1_000_000)).toBeNull();
  });

  it('that keeps timing out is retried until its own deadline: the last attempt is cut short by it', () => {
    let record = refunding(T0);
    const expiresAt = record.steps[CHARGE].expiresAt as number;
    let attempts = 0;
    while (record.steps[CHARGE].state === 'COMPENSATING') {
      const deadline = record.steps[CHARGE].deadline as number;
      expect(deadline).toBeLessThanOrEqual(expiresAt);
      expect(tickAt(record, deadline - 1)).toBeNull();
      record = moved(tickAt(record, deadline)).record;
      attempts += 1;
      if (record.steps[CHARGE].state === 'COMPENSATING') record = moved(tickAt(record, record.steps[CHARGE].dispatchAt as number)).record;
    }
    // 2000 ms attempts with 50, 100, 200, 400 ms waits: four fit in 9000 ms, the fifth ends at the deadline.
    expect(attempts).toBe(5);
    expect(record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATION_FAILED', gaveUp: 'deadline', error: 'deadline of 9000 ms passed after 5 attempt(s); last: no reply within 2000 ms (attempt 5)' });
    expect(record.updatedAt).toBe(new Date(expiresAt).toISOString());
    expect(record.cursor).toBe(RESERVE);
  });

  it('refused as retrying cannot fix it gives up at once, and the saga still undoes the rest and ends FAILED naming it', () => {
    const gaveUp = moved(answer(refunding(T0), T0 + 5, { outcome: 'failure', retriable: false, error: 'account closed' }));
    expect(gaveUp.record.steps[CHARGE]).toMatchObject({ state: 'COMPENSATION_FAILED', attempts: 1, gaveUp: 'refused', error: 'account closed' });
    expect(gaveUp.dispatch).toEqual([{ stepIndex: RESERVE, action: 'compensation', attempt: 1 }]);
    const done = succeed(gaveUp.record, T0 + 6);
    expect(done.record).toMatchObject({ state: 'FAILED', error: 'could not undo chargePayment' });
  });
});

describe('stale and late replies are ignored', () => {
  const stale = (record: Saga, reply: Partial<SagaReply>, now = T0 + 1) => expect(answer(record, now, reply)).toBeNull();

  it('a reply for another step than the one in flight', () => {
    const record = runningAt(CHARGE, T0);
    stale(record, { stepIndex: RESERVE });
    stale(record, { stepIndex: CREATE });
    stale(record, { stepIndex: 99 });
    stale(record, { stepIndex: -1 });
  });

  it('a reply for the wrong phase: a compensation reply while running, a late command reply while compensating the same step', () => {
    stale(runningAt(CHARGE, T0), { action: 'compensation' });
    const { record } = timeOutAndRetry(runningAt(CHARGE, T0), T0, 3);
    const compensating = moved(tickAt(record, record.steps[CHARGE].deadline as number)).record;
    expect(compensating.state).toBe('COMPENSATING');
    expect(compensating.cursor).toBe(CHARGE);
    stale(compensating, { stepIndex: CHARGE, action: 'command', outcome: 'success', result: { charged: true } });
  });

  it('a reply after the saga ended, whatever the ending', () => {
    const completed = succeed(runningAt(CREATE, T0), T0 + 1).record;
    const compensated = refuse(started(T0).record, T0 + 1).record;
    for (const ended of [completed, compensated]) {
      for (const action of ['command', 'compensation'] as const) {
        for (const outcome of ['success', 'failure'] as const) stale(ended, { stepIndex: ended.cursor, action, outcome });
      }
    }
  });

  it('a duplicate of a reply already applied', () => {
    const first = started(T0).record;
    const after = succeed(first, T0 + 1).record;
    stale(after, { stepIndex: RESERVE, action: 'command', outcome: 'success' });
    stale(after, { stepIndex: RESERVE, action: 'command', outcome: 'failure' });

    const last = runningAt(CREATE, T0);
    const done = succeed(last, T0 + 1).record;
    stale(done, { stepIndex: CREATE, action: 'command', outcome: 'success' });

    const compensating = refuse(runningAt(CREATE, T0), T0).record;
    const next = succeed(compensating, T0 + 1).record;
    stale(next, { stepIndex: CHARGE, action: 'compensation', outcome: 'success' });
  });

  it('a duplicate of a compensation refusal while its retry waits out the backoff: it must not use up the retry', () => {
    // createOrder times out twice (maxAttempts 2), so cancelOrder runs; its first attempt is refused.
    const { record } = timeOutAndRetry(runningAt(CREATE, T0), T0, 1);
    const compensating = moved(tickAt(record, record.steps[CREATE].deadline as number)).record;
    expect(compensating.steps[CREATE].state).toBe('COMPENSATING');
    const refused = refuse(compensating, T0 + 20_000, 'orders db busy').record;
    expect(refused.steps[CREATE]).toMatchObject({ attempts: 2, dispatched: false });

    // Kafka delivers the same refusal again before the retry is sent.
    stale(refused, { stepIndex: CREATE, action: 'compensation', outcome: 'failure', error: 'orders db busy' }, T0 + 20_001);

    const resent = moved(tickAt(refused, refused.steps[CREATE].dispatchAt as number));
    expect(resent.dispatch).toEqual([{ stepIndex: CREATE, action: 'compensation', attempt: 2 }]);
    expect(succeed(resent.record, T0 + 21_000).record.steps[CREATE].state).toBe('COMPENSATED');
  });
});

describe('tick and nextWakeUp', () => {
  it('tick returns null when nothing is due, and nextWakeUp names the deadline of a sent attempt and the send time of a waiting one', () => {
    const running = started(T0).record;
    expect(tickAt(running, T0)).toBeNull();
    expect(tickAt(running, T0 + 999)).toBeNull();
    expect(nextWakeUp(running)).toBe(T0 + 1000);

    const waiting = moved(tickAt(running, T0 + 1000)).record;
    expect(waiting.steps[RESERVE].dispatched).toBe(false);
    expect(nextWakeUp(waiting)).toBe(T0 + 1100);
    // Waiting for a send, it is not timed out again however long the tick is late before the send.
    const resent = moved(tickAt(waiting, T0 + 8_000));
    expect(resent.dispatch).toHaveLength(1);
    expect(resent.record.steps[RESERVE].attempts).toBe(2);
  });

  it('nextWakeUp is undefined for every terminal state', () => {
    const completed = succeed(runningAt(CREATE, T0), T0 + 1).record;
    const compensated = refuse(started(T0).record, T0 + 1).record;
    let failing = refuse(runningAt(CREATE, T0), T0).record;
    failing = moved(answer(failing, T0, { outcome: 'failure', retriable: false })).record;
    failing = succeed(failing, T0 + 1).record;
    expect([completed.state, compensated.state, failing.state]).toEqual(['COMPLETED', 'COMPENSATED', 'FAILED']);
    for (const ended of [completed, compensated, failing]) {
      expect(nextWakeUp(ended)).toBeUndefined();
      expect(tickAt(ended, T0 + 10_000_000)).toBeNull();
    }
  });
});

describe('revisions and immutability', () => {
  it('adds exactly one revision per transition, none for an ignored event, and stamps updatedAt with the transition time', () => {
    const transitions: number[] = [];
    let record = started(T0).record;
    transitions.push(record.revision);
    record = moved(tickAt(record, T0 + 1000)).record; // timeout
    transitions.push(record.revision);
    expect(tickAt(record, T0 + 1001)).toBeNull();
    record = moved(tickAt(record, T0 + 1100)).record; // resend
    transitions.push(record.revision);
    expect(answer(record, T0 + 1101, { stepIndex: CHARGE })).toBeNull();
    record = refuse(record, T0 + 1200).record; // refused: COMPENSATED
    transitions.push(record.revision);
    expect(transitions).toEqual([1, 2, 3, 4]);
    expect(record.updatedAt).toBe(new Date(T0 + 1200).toISOString());
  });

  it('never mutates the record it is given, nested steps and results included', () => {
    const record = runningAt(CHARGE, T0);
    const frozen = serialized(record);
    const deepFreeze = (value: unknown): void => {
      if (value && typeof value === 'object') {
        Object.freeze(value);
        for (const child of Object.values(value)) deepFreeze(child);
      }
    };
    deepFreeze(record);
    expect(() => applyReply(placeOrder, record, { sagaId: 'saga-1', stepIndex: CHARGE, action: 'command', outcome: 'success', result: 1 }, T0 + 1)).not.toThrow();
    expect(() => applyReply(placeOrder, record, { sagaId: 'saga-1', stepIndex: CHARGE, action: 'command', outcome: 'failure' }, T0 + 1)).not.toThrow();
    expect(() => tick(placeOrder, record, T0 + 2000)).not.toThrow();
    expect(serialized(record)).toBe(frozen);
  });
});
