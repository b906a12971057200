/** The saga overview operators see: in flight and latest finished, each with its steps, from the store. */
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { SagaLog, sagaKey, type SagaRecord } from '@trellis/kit/internal/saga';

const record = (id: string, state: SagaRecord['state'], updatedAt: string): SagaRecord => ({
  id,
  definition: 'placeOrder',
  state,
  input: {},
  results: {},
  steps: [
    { name: 'reserveStock', state: state === 'RUNNING' ? 'RUNNING' : 'SUCCEEDED', attempts: 1 },
    { name: 'chargePayment', state: state === 'COMPENSATED' ? 'FAILED' : 'PENDING', attempts: 2, ...(state === 'COMPENSATED' ? { error: 'declined' } : {}) },
  ],
  cursor: 0,
  createdAt: updatedAt,
  updatedAt,
  revision: 1,
  outbox: [],
});

describe('SagaLog', () => {
  it('splits in-flight from finished, newest first, keeps the latest finished ones and bounds its reads', async () => {
    const state = new InMemoryStateStore();
    const write = (saga: SagaRecord) => state.compareAndSet(sagaKey(saga.id), 0, JSON.stringify(saga));
    await write(record('a', 'RUNNING', '2026-01-01T00:00:01Z'));
    await write(record('b', 'COMPLETED', '2026-01-01T00:00:02Z'));
    await write(record('c', 'COMPENSATED', '2026-01-01T00:00:03Z'));
    await write(record('d', 'COMPLETED', '2026-01-01T00:00:04Z'));
    await state.set('saga:idempotency:u1:k', '{}');

    const overview = await new SagaLog({ state, finishedLimit: 2 }).overview();
    expect(overview.inFlight.map((saga) => saga.id)).toEqual(['a']);
    expect(overview.finished.map((saga) => saga.id)).toEqual(['d', 'c']);
    expect(overview.finished[1].steps).toEqual([
      { name: 'reserveStock', state: 'SUCCEEDED', attempts: 1 },
      { name: 'chargePayment', state: 'FAILED', attempts: 2, error: 'declined' },
    ]);
    expect(overview).toMatchObject({ kept: 4, read: 4 });
    expect(await new SagaLog({ state, maxRead: 3 }).overview()).toMatchObject({ kept: 4, read: 3 });
  });
});
