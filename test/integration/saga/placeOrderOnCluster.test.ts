/**
 * The example participants on a Redis Cluster: each files its dedupe records in the slot of the
 * keys it writes (`slotOf`), so placeOrder runs end to end there (before, every participant write
 * was refused as CROSS_SLOT and no saga completed). Stock is reserved once, a redelivered command
 * is answered from its dedupe record, and a declined card is undone.
 */
import { SAGA_TOPICS, type SagaCommand, type SagaReply } from '@trellis/kit/saga';
import { EmbeddedPaymentProvider } from '../../../subgraphs/payments/provider';
import { eventually } from '../../support/graphql';
import { realBackends } from '../../support/backends';
import { privateCluster, type PrivateCluster } from '../../support/privateRedisTopologies';
import { startSagaWorld, type SagaWorld } from '../../support/sagaWorld';

const p1 = { productId: 'p1', quantity: 2, unitPrice: 12.5 };
const p3 = { productId: 'p3', quantity: 1, unitPrice: 4.99 };

describe('placeOrder on a Redis Cluster', () => {
  let cluster: PrivateCluster;
  let world: SagaWorld;
  const replies: SagaReply[] = [];

  beforeAll(async () => {
    cluster = await privateCluster();
    world = await startSagaWorld(undefined, { ...realBackends, redisTopology: cluster.topology });
    await world.events.subscribe({ groupId: 'replies-reader', topics: [SAGA_TOPICS.replies], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value)) });
    for (const name of ['catalog', 'payments', 'orders'] as const) await world.startParticipant(name);
    await world.startOrchestrator();
  }, 120_000);
  afterAll(async () => {
    await world?.close();
    await cluster?.stop();
  });

  const repliesTo = (sagaId: string, stepIndex: number) => replies.filter((reply) => reply.sagaId === sagaId && reply.stepIndex === stepIndex);

  it('completes an order of two products, reserving each once; a redelivered reservation and charge change nothing', async () => {
    const [before1, before3] = [await world.stock('p1'), await world.stock('p3')];
    const saga = await world.settled((await world.placeOrder({ items: [p1, p3] })).id);

    expect(saga.state).toBe('COMPLETED');
    expect(saga.steps.map((step) => step.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(await world.stock('p1')).toEqual({ available: before1.available - 2, reserved: before1.reserved + 2 });
    expect(await world.stock('p3')).toEqual({ available: before3.available - 1, reserved: before3.reserved + 1 });
    expect(await world.payment(saga.input.orderId)).toMatchObject({ state: 'CAPTURED', amount: saga.input.total });
    expect(await world.order(saga.input.orderId)).toMatchObject({ userId: 'u1', status: 'CONFIRMED' });
    expect((await world.orders.byUser('u1')).map((order) => order.id)).toContain(saga.input.orderId);

    // Kafka delivers the reservation and the charge again, as after a consumer crash before its commit.
    const again = (stepIndex: number, participant: string, name: string, payload: unknown): SagaCommand => ({
      sagaId: saga.id,
      saga: saga.definition,
      step: saga.steps[stepIndex].name,
      stepIndex,
      action: 'command',
      name,
      attempt: 1,
      payload,
    });
    const redeliver = (participant: string, command: SagaCommand) => world.events.publish(SAGA_TOPICS.commands(participant), { key: saga.id, value: JSON.stringify(command) });
    await eventually(async () => expect([repliesTo(saga.id, 0).length, repliesTo(saga.id, 1).length]).toEqual([1, 1]), 30_000);
    await redeliver('catalog', again(0, 'catalog', 'reserveStock', { items: [p1, p3].map(({ productId, quantity }) => ({ productId, quantity })) }));
    await redeliver('payments', again(1, 'payments', 'charge', { orderId: saga.input.orderId, userId: 'u1', amount: saga.input.total, method: 'card-ok' }));

    // Each copy is answered with the first outcome, replayed from its dedupe record.
    await eventually(async () => expect([repliesTo(saga.id, 0).length, repliesTo(saga.id, 1).length]).toEqual([2, 2]), 30_000);
    for (const stepIndex of [0, 1]) expect(repliesTo(saga.id, stepIndex)[1]).toEqual(repliesTo(saga.id, stepIndex)[0]);
    expect(await world.stock('p1')).toEqual({ available: before1.available - 2, reserved: before1.reserved + 2 });
    expect(await world.stock('p3')).toEqual({ available: before3.available - 1, reserved: before3.reserved + 1 });
    expect(await new EmbeddedPaymentProvider(world.state).books(saga.input.orderId)).toEqual({ captures: 1, refunds: 0 });
  });

  it('undoes a declined card: the stock comes back, no payment, no order', async () => {
    const before = await world.stock('p1');
    const saga = await world.settled((await world.placeOrder({ items: [p1], paymentMethod: 'card-declined' })).id);

    expect(saga.state).toBe('COMPENSATED');
    expect(saga.steps.map((step) => step.state)).toEqual(['COMPENSATED', 'FAILED', 'PENDING']);
    expect(await world.stock('p1')).toEqual(before);
    expect(await world.payment(saga.input.orderId)).toBeUndefined();
    expect(await world.order(saga.input.orderId)).toBeUndefined();
  });

  it('runs 20 orders of one product at once: every one completes and the stock moves by exactly 20', async () => {
    const before = await world.stock('p3');
    const started = await Promise.all(Array.from({ length: 20 }, () => world.placeOrder({ items: [p3] })));
    const settled = await Promise.all(started.map((saga) => world.settled(saga.id)));

    expect(settled.map((saga) => saga.state)).toEqual(Array(20).fill('COMPLETED'));
    expect(await world.stock('p3')).toEqual({ available: before.available - 20, reserved: before.reserved + 20 });
  });
});
