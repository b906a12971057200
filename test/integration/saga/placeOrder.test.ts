/**
 * The placeOrder saga end to end on real Redis and Kafka: the happy path, business refusals,
 * participants that go quiet, duplicate and late deliveries, compensations in reverse order, a
 * compensation that fails, and orchestrators that restart or run side by side.
 */
import { dedupeKey, SagaRefusal, SAGA_TOPICS, type SagaCommand, type SagaHandler, type SagaReply } from '@trellis/kit/saga';
import { CHARGE_LIMIT } from '../../../subgraphs/payments/ledger';
import { watchSaga } from '../../../subgraphs/sagas/sagaWatch';
import { eventually } from '../../support/graphql';
import { startSagaWorld, type Participant, type SagaWorld } from '../../support/sagaWorld';

const p1 = { productId: 'p1', quantity: 2, unitPrice: 12.5 };
const p5 = { productId: 'p5', quantity: 1, unitPrice: 39.9 };

/** A handler that records its calls in `log` and then runs the real one. */
const recorded = (log: string[], name: string, real: SagaHandler): SagaHandler =>
  (async (payload: never, context) => {
    log.push(name);
    return real(payload, context);
  }) as SagaHandler;

/** A handler that fails like a crashed dependency (not a refusal): the command goes unanswered. */
const broken: SagaHandler = async () => {
  throw new Error('dependency down');
};

describe('placeOrder saga on Redis and Kafka', () => {
  let world: SagaWorld;
  const all: Participant[] = ['catalog', 'payments', 'orders'];

  beforeEach(async () => {
    world = await startSagaWorld();
    await world.startOrchestrator();
  });
  afterEach(async () => world.close());

  it('completes: stock reserved, payment captured, order created, every step succeeded', async () => {
    for (const name of all) await world.startParticipant(name);
    const before = await world.stock('p1');
    const started = await world.placeOrder({ items: [p1] });
    expect(started.state).toBe('RUNNING');

    const saga = await world.settled(started.id);
    expect(saga.state).toBe('COMPLETED');
    expect(saga.steps.map((s) => [s.name, s.state])).toEqual([
      ['reserveStock', 'SUCCEEDED'],
      ['chargePayment', 'SUCCEEDED'],
      ['createOrder', 'SUCCEEDED'],
    ]);
    expect(await world.stock('p1')).toEqual({ available: before.available - 2, reserved: before.reserved + 2 });
    expect(await world.payment(saga.input.orderId)).toMatchObject({ amount: 25, state: 'CAPTURED' });
    expect(await world.order(saga.input.orderId)).toMatchObject({ userId: 'u1', total: 25 });
  });

  it('compensates a declined card: stock back, no payment, no order', async () => {
    for (const name of all) await world.startParticipant(name);
    const before = await world.stock('p1');
    const saga = await world.settled((await world.placeOrder({ items: [p1], paymentMethod: 'card-declined' })).id);

    expect(saga.state).toBe('COMPENSATED');
    expect(saga.steps.map((s) => s.state)).toEqual(['COMPENSATED', 'FAILED', 'PENDING']);
    expect(saga.steps[1].error).toBe('card declined');
    expect(await world.stock('p1')).toEqual(before);
    expect(await world.payment(saga.input.orderId)).toBeUndefined();
    expect(await world.order(saga.input.orderId)).toBeUndefined();
  });

  it('compensates an amount over the payment limit', async () => {
    for (const name of all) await world.startParticipant(name);
    const before = await world.stock('p5');
    const saga = await world.settled((await world.placeOrder({ items: [p5], total: CHARGE_LIMIT + 1 })).id);

    expect(saga.state).toBe('COMPENSATED');
    expect(saga.steps[1].error).toBe(`amount ${CHARGE_LIMIT + 1} is over the limit of ${CHARGE_LIMIT}`);
    expect(await world.stock('p5')).toEqual(before);
  });

  it('refuses more than is in stock at the participant, touching nothing', async () => {
    for (const name of all) await world.startParticipant(name);
    const before = await world.stock('p5');
    const saga = await world.settled((await world.placeOrder({ items: [{ ...p5, quantity: before.available + 1 }] })).id);

    expect(saga.state).toBe('COMPENSATED');
    expect(saga.steps[0]).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/not enough stock for p5/) });
    expect(await world.stock('p5')).toEqual(before);
  });

  it('retries a step whose participant was down, and completes once it is back', async () => {
    await world.startParticipant('catalog');
    await world.startParticipant('orders');
    const saga = await world.placeOrder({ items: [p1] });
    // The charge was sent while payments was down (stock reserved, the step running): only then does it come back.
    await eventually(async () => expect((await world.saga(saga.id))?.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'RUNNING', 'PENDING']), 30_000, 20);
    await world.startParticipant('payments');

    const done = await world.settled(saga.id);
    expect(done.state).toBe('COMPLETED');
    expect(await world.payment(done.input.orderId)).toMatchObject({ state: 'CAPTURED' });
  });

  it('times out a participant that never answers, then compensates everything in strict reverse order', async () => {
    const calls: string[] = [];
    await world.startParticipant('catalog', { releaseStock: recorded(calls, 'releaseStock', world.inventory.sagaHandlers().releaseStock) });
    await world.startParticipant('payments', { refund: recorded(calls, 'refund', world.ledger.sagaHandlers().refund) });
    await world.startParticipant('orders', { createOrder: broken, cancelOrder: recorded(calls, 'cancelOrder', world.orders.sagaHandlers().cancelOrder) });
    const before = await world.stock('p1');

    const saga = await world.settled((await world.placeOrder({ items: [p1] })).id);
    expect(saga.state).toBe('COMPENSATED');
    expect(saga.steps.map((s) => s.state)).toEqual(['COMPENSATED', 'COMPENSATED', 'COMPENSATED']);
    expect(calls).toEqual(['cancelOrder', 'refund', 'releaseStock']);
    expect(await world.stock('p1')).toEqual(before);
    expect(await world.payment(saga.input.orderId)).toMatchObject({ state: 'REFUNDED' });
    expect(await world.order(saga.input.orderId)).toBeUndefined();
  });

  it('ends FAILED, never COMPENSATED, when a compensation is refused for good', async () => {
    const refuse: SagaHandler = async () => {
      throw new SagaRefusal('warehouse system rejects the release');
    };
    await world.startParticipant('catalog', { releaseStock: refuse });
    await world.startParticipant('payments');
    await world.startParticipant('orders');

    const saga = await world.settled((await world.placeOrder({ items: [p1], paymentMethod: 'card-declined' })).id);
    expect(saga.state).toBe('FAILED');
    expect(saga.error).toBe('could not undo reserveStock');
    // A plain SagaRefusal says retrying cannot fix it: given up at the first attempt.
    expect(saga.steps[0]).toMatchObject({ state: 'COMPENSATION_FAILED', attempts: 1, gaveUp: 'refused', error: 'warehouse system rejects the release' });
  });

  it('resumes a saga after its orchestrator stops, from another orchestrator', async () => {
    await world.startParticipant('catalog');
    await world.startParticipant('orders');
    const saga = await world.placeOrder({ items: [p1] });
    await eventually(async () => expect((await world.saga(saga.id))?.steps[1].state).toBe('RUNNING'), 30_000, 100);
    // The only orchestrator goes away while the saga waits on payments; payments answers into
    // the void, and a fresh orchestrator picks the reply up and finishes the saga.
    await world.stopOrchestrator(world.orchestrators()[0]);
    await world.startParticipant('payments');
    await world.startOrchestrator();

    const done = await world.settled(saga.id);
    expect(done.state).toBe('COMPLETED');
    expect(await world.order(done.input.orderId)).toMatchObject({ status: 'CONFIRMED' });
  });

  it('gives a subscriber that joins late the snapshot first, then every change without gaps, to the end', async () => {
    await world.startParticipant('catalog');
    await world.startParticipant('orders');
    const saga = await world.placeOrder({ items: [p1] });
    await eventually(async () => expect((await world.saga(saga.id))?.steps[1].state).toBe('RUNNING'), 30_000, 100);

    const seen: Array<{ revision: number; state: string }> = [];
    const watching = (async () => {
      for await (const record of watchSaga(world.state, saga.id, world.saga)) seen.push({ revision: record.revision, state: record.state });
    })();
    await eventually(async () => expect(seen.length).toBeGreaterThan(0), 30_000, 100);
    await world.startParticipant('payments');
    await watching;

    expect(seen[0].revision).toBeGreaterThan(1);
    expect(seen.map((s) => s.revision)).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0].revision + i));
    expect(seen[seen.length - 1].state).toBe('COMPLETED');
  });
});

describe('placeOrder saga under concurrency', () => {
  let world: SagaWorld;
  // Generous deadlines: this is about exactly-once under load, not about timeouts.
  beforeEach(async () => {
    world = await startSagaWorld({ stepTimeoutMs: 20_000, retry: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 2000 } });
    await world.startOrchestrator();
  });
  afterEach(async () => world.close());
  const all: Participant[] = ['catalog', 'payments', 'orders'];

  it('runs 100 concurrent sagas on two orchestrators side by side, each applied exactly once', async () => {
    for (const name of all) await world.startParticipant(name);
    await world.startOrchestrator();
    const before = await world.stock('p3');
    const sagas = await Promise.all(Array.from({ length: 100 }, () => world.placeOrder({ items: [{ productId: 'p3', quantity: 1, unitPrice: 4 }] })));

    const done = await Promise.all(sagas.map((saga) => world.settled(saga.id)));
    expect(done.map((saga) => saga.state)).toEqual(Array(100).fill('COMPLETED'));
    expect(await world.stock('p3')).toEqual({ available: before.available - 100, reserved: before.reserved + 100 });
    const payments = await Promise.all(done.map((saga) => world.payment(saga.input.orderId)));
    expect(payments.every((payment) => payment?.state === 'CAPTURED')).toBe(true);
  });
});

describe('participant kit on Kafka', () => {
  let world: SagaWorld;
  beforeEach(async () => (world = await startSagaWorld()));
  afterEach(async () => world.close());

  const command = (sagaId: string, action: 'command' | 'compensation'): SagaCommand => ({
    sagaId,
    saga: 'placeOrder',
    step: 'reserveStock',
    stepIndex: 0,
    action,
    name: action === 'command' ? 'reserveStock' : 'releaseStock',
    attempt: 1,
    payload: { items: [{ productId: 'p2', quantity: 3 }] },
  });

  it('applies a command delivered three times once, and a command arriving after its compensation not at all', async () => {
    // Each delivery is answered (a duplicate with the first outcome replayed) after it is handled:
    // the replies are how the test knows every copy was consumed before it reads the stock.
    const replies: SagaReply[] = [];
    await world.events.subscribe({ groupId: 'replies-reader', topics: [SAGA_TOPICS.replies], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value)) });
    await world.startParticipant('catalog');
    const before = await world.stock('p2');
    const send = (message: SagaCommand) => world.events.publish(SAGA_TOPICS.commands('catalog'), { key: message.sagaId, value: JSON.stringify(message) });

    for (let i = 0; i < 3; i++) await send(command('dup', 'command'));
    await send(command('late', 'compensation'));
    await send(command('late', 'command'));

    const of = (sagaId: string) => replies.filter((reply) => reply.sagaId === sagaId);
    await eventually(async () => expect([of('dup').length, of('late').length]).toEqual([3, 2]), 30_000, 50);
    // All three copies handled, the stock moved once, and each copy got the first outcome.
    expect(await world.stock('p2')).toEqual({ available: before.available - 3, reserved: before.reserved + 3 });
    expect(of('dup')).toEqual(Array(3).fill({ sagaId: 'dup', stepIndex: 0, action: 'command', outcome: 'success', result: of('dup')[0].result }));
    // The late command, in order after its compensation, is refused and recorded as refused.
    expect(of('late').map((reply) => [reply.action, reply.outcome, reply.error])).toEqual([
      ['compensation', 'success', undefined],
      ['command', 'failure', 'reserveStock arrived after its compensation; not applied'],
    ]);
    const late = JSON.parse((await world.state.getVersioned(dedupeKey('late', 0, 'command')))!.value) as { outcome: string; error: string };
    expect(late).toMatchObject({ outcome: 'failure', error: 'reserveStock arrived after its compensation; not applied' });
  });
});
