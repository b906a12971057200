/** An uncertain failure (an outside call whose outcome is unknown) is undone like a timeout, never left applied. */
import { applyReply, begin, createRecord, type SagaDefinition, type SagaRecord, type SagaReply } from '@trellis/kit/internal/saga';

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

describe('saga state machine: uncertain failures', () => {
  it('an uncertain failure is undone too, as after a timeout', () => {
    const uncertain = play(started(), [reply(0, 'command', 'success'), reply(1, 'command', 'success'), reply(2, 'command', 'failure', { uncertain: true, error: 'capture outcome unknown' })]);
    // Its own compensation goes out first, then the earlier steps'.
    expect(uncertain.record.steps[2]).toMatchObject({ state: 'COMPENSATING', error: 'capture outcome unknown' });
    expect(uncertain.dispatch).toEqual([{ stepIndex: 2, action: 'compensation', attempt: 1 }]);
  });
});
