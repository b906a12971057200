/**
 * Sagas through real outages, on private Redis and Kafka servers stopped for real: a start
 * answered as soon as the record is durable (Kafka down), a start refused fast with nothing done
 * later (Redis down), deadlines that pass during an outage, idempotent starts, and outside calls
 * made once however often a command is delivered.
 */
import { BackendUnavailableError } from '@trellis/kit';
import { dedupeKey, IdempotencyKeyReusedError, onceIdempotencyKey, onceKey, SagaRefusal, SAGA_TOPICS, type SagaCommand, type SagaHandler, type SagaRecord } from '@trellis/kit/saga';
import { EmbeddedPaymentProvider } from '../../../subgraphs/payments/provider';
import { paymentKey, paymentSlot } from '../../../subgraphs/payments/ledger';
import type { PlaceOrderInput } from '../../../subgraphs/sagas/placeOrderSaga';
import { eventually } from '../../support/graphql';
import { realBackends } from '../../support/backends';
import { privateKafka, privateRedis, type PrivateServer } from '../../support/privateServers';
import { startSagaWorld, type SagaWorld } from '../../support/sagaWorld';

const p1 = { productId: 'p1', quantity: 1, unitPrice: 12.5 };

function orderInput(world: SagaWorld, id: string, overrides: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  return { orderId: `o-${world.namespace}-${id}`, userId: 'u1', items: [p1], total: 12.5, paymentMethod: 'card-ok', ...overrides };
}

async function startAll(world: SagaWorld): Promise<void> {
  await world.startOrchestrator();
  for (const participant of ['catalog', 'payments', 'orders'] as const) await world.startParticipant(participant);
}

const books = (world: SagaWorld, orderId: string) => new EmbeddedPaymentProvider(world.state).books(orderId);

describe('idempotent saga starts', () => {
  let world: SagaWorld;
  beforeAll(async () => {
    world = await startSagaWorld();
    await startAll(world);
  });
  afterAll(() => world?.close());

  it('gives the same key and caller the first saga, refuses the key for another request, and keeps callers apart', async () => {
    const orchestrator = world.orchestrators()[0];
    const request = { items: [{ productId: 'p1', quantity: 1 }], paymentMethod: 'card-ok' };
    const start = (id: string, scope: string, req: unknown = request) =>
      orchestrator.startSaga('placeOrder', orderInput(world, id), { id, idempotency: { scope, key: 'checkout-1', request: req } });

    const [first, concurrent] = await Promise.all([start('a', 'u1'), start('b', 'u1')]);
    const retried = await start('c', 'u1');
    expect(concurrent.id).toBe(first.id);
    expect(retried.id).toBe(first.id);
    expect(await world.saga(first.id === 'a' ? 'b' : 'a')).toBeNull();
    expect(await world.saga('c')).toBeNull();

    await expect(start('d', 'u1', { ...request, paymentMethod: 'card-other' })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    await expect(start('d', 'u1', { ...request, paymentMethod: 'card-other' })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    // Key order inside the request does not make it a different request.
    expect((await start('e', 'u1', { paymentMethod: 'card-ok', items: [{ quantity: 1, productId: 'p1' }] })).id).toBe(first.id);

    const other = await start('f', 'u2');
    expect(other.id).toBe('f');

    const done = await world.settled(first.id);
    expect(done.state).toBe('COMPLETED');
    expect(await books(world, done.input.orderId)).toEqual({ captures: 1, refunds: 0 });
  });
});

describe('sagas with Kafka down', () => {
  let kafka: PrivateServer & { stop(): Promise<void> };
  let world: SagaWorld;
  beforeAll(async () => {
    kafka = await privateKafka();
    await kafka.start();
    // Steps wait long enough for consumers to rejoin a restarted broker (a JVM start here takes 15-20 s under load).
    world = await startSagaWorld({ stepTimeoutMs: 30_000, retry: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 1000 } }, { redisUrl: realBackends.redisUrl, kafkaBrokers: [kafka.url] });
    await startAll(world);
  }, 180_000);
  afterAll(async () => {
    await world?.close();
    await kafka?.stop();
  });

  it('starts the saga while Kafka is down, answers the retry with the same saga, and completes once Kafka is back', async () => {
    await kafka.stop();
    const orchestrator = world.orchestrators()[0];
    const request = { items: [{ productId: 'p1', quantity: 1 }], paymentMethod: 'card-ok' };
    const started = Date.now();
    const first = await orchestrator.startSaga('placeOrder', orderInput(world, 'k1'), { id: 'k1', idempotency: { scope: 'u1', key: 'buy-k1', request } });
    // Answered once the record is durable, not when Kafka takes the command.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(first.state).toBe('RUNNING');
    const retry = await orchestrator.startSaga('placeOrder', orderInput(world, 'k2'), { id: 'k2', idempotency: { scope: 'u1', key: 'buy-k1', request } });

    expect(retry.id).toBe('k1');
    // Still waiting: nothing could be sent.
    expect((await world.saga('k1'))?.outbox).toHaveLength(1);

    await kafka.start();
    const done = await world.settled('k1', 120_000);
    expect(done.state).toBe('COMPLETED');
    expect(await world.saga('k2')).toBeNull();
    expect(await books(world, done.input.orderId)).toEqual({ captures: 1, refunds: 0 });
    expect(await world.order(done.input.orderId)).toMatchObject({ status: 'CONFIRMED' });
  }, 240_000);
});

describe('sagas with Redis down', () => {
  let redis: PrivateServer;
  let world: SagaWorld;
  beforeAll(async () => {
    redis = await privateRedis({ durable: true });
    await redis.start();
    world = await startSagaWorld(undefined, { redisUrl: redis.url, kafkaBrokers: realBackends.kafkaBrokers });
  }, 60_000);
  afterAll(async () => {
    await world?.close();
    await redis?.kill();
  });

  it('refuses a start fast with a retriable error while the state store is down, and nothing happens later', async () => {
    await startAll(world);
    await redis.kill();
    const started = Date.now();
    const refused = await world.orchestrators()[0].startSaga('placeOrder', orderInput(world, 'down'), { id: 'down' }).catch((error: unknown) => error);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(refused).toBeInstanceOf(BackendUnavailableError);
    expect(refused).toMatchObject({ retriable: true });
    await redis.start();
    await eventually(async () => expect(await world.state.get('probe')).toBeNull(), 30_000, 100);
    // A saga started after the outage completes, and the refused one was never created.
    const after = await world.settled((await world.placeOrder({ items: [p1] })).id, 60_000);
    expect(after.state).toBe('COMPLETED');
    expect(await world.saga('down')).toBeNull();
  }, 120_000);

  it('moves a saga on after Redis comes back, though its replies and its deadline fell in the outage', async () => {
    // Orders answers slowly, so its reply and the step's deadline (1.5 s) both land while Redis is down.
    const slowCreate: SagaHandler = (async (payload: never, context) => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      return world.orders.sagaHandlers().createOrder(payload, context);
    }) as SagaHandler;
    await world.stopParticipant('orders');
    await world.startParticipant('orders', { createOrder: slowCreate });
    const saga = await world.placeOrder({ items: [p1] });
    await eventually(async () => expect((await world.saga(saga.id))?.steps[2].state).toBe('RUNNING'), 30_000, 20);
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 5000)); // the outage itself, not a wait for a result
    await redis.start();

    const done = await world.settled(saga.id, 60_000);
    expect(['COMPLETED', 'COMPENSATED']).toContain(done.state);
    const provider = await books(world, done.input.orderId);
    if (done.state === 'COMPLETED') {
      expect(provider).toEqual({ captures: 1, refunds: 0 });
      expect(await world.order(done.input.orderId)).toMatchObject({ status: 'CONFIRMED' });
    } else {
      expect(provider.captures).toBe(provider.refunds);
    }
  }, 120_000);
});

describe('outside calls under duplicate delivery', () => {
  let world: SagaWorld;
  beforeAll(async () => {
    world = await startSagaWorld();
    await world.startParticipant('payments');
  });
  afterAll(() => world?.close());

  it('captures once however often the charge is delivered', async () => {
    const replies: SagaRecord[] = [];
    await world.events.subscribe({ groupId: 'replies-reader', topics: [SAGA_TOPICS.replies], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value)) });
    const charge: SagaCommand = {
      sagaId: `${world.namespace}-dup`,
      saga: 'placeOrder',
      step: 'chargePayment',
      stepIndex: 1,
      action: 'command',
      name: 'charge',
      attempt: 1,
      payload: { orderId: `o-${world.namespace}-dup`, amount: 20, method: 'card-ok' },
    };
    const message = { key: charge.sagaId, value: JSON.stringify(charge) };
    await world.events.publish(SAGA_TOPICS.commands('payments'), [message, message, message, message, message]);
    await eventually(async () => expect(replies).toHaveLength(5), 30_000, 50);
    expect(await books(world, `o-${world.namespace}-dup`)).toEqual({ captures: 1, refunds: 0 });
    expect(new Set(replies.map((reply) => JSON.stringify(reply))).size).toBe(1);
  });

  it('captures once when the participant’s own records of a charge were lost: the provider deduplicates on once’s key', async () => {
    const sagaId = `${world.namespace}-lost`;
    const replies: unknown[] = [];
    await world.events.subscribe({ groupId: 'lost-reader', topics: [SAGA_TOPICS.replies], fromBeginning: true, handler: async (m) => void (m.key === sagaId && replies.push(JSON.parse(m.value))) });
    const orderId = `o-${sagaId}`;
    const charge: SagaCommand = { sagaId, saga: 'placeOrder', step: 'chargePayment', stepIndex: 1, action: 'command', name: 'charge', attempt: 1, payload: { orderId, amount: 20, method: 'card-ok' } };
    const message = { key: sagaId, value: JSON.stringify(charge) };
    await world.events.publish(SAGA_TOPICS.commands('payments'), [message]);
    await eventually(async () => expect(replies).toHaveLength(1), 30_000, 50);
    const payment = async () => JSON.parse((await world.state.getVersioned(paymentKey(orderId)))!.value) as { captureId: string; state: string };
    const first = await payment();

    // What a failover without REDIS_MIN_REPLICAS_ACK can lose: every write of the charge after the
    // provider's capture (its once record, its outcome, the payment); the provider's books are its own.
    await Promise.all([onceKey(sagaId, 1, 'command', 'capture'), dedupeKey(sagaId, 1, 'command', paymentSlot(orderId)), paymentKey(orderId)].map((key) => world.state.delete(key)));
    await world.events.publish(SAGA_TOPICS.commands('payments'), [message]);
    await eventually(async () => expect(replies).toHaveLength(2), 30_000, 50);

    expect(await books(world, orderId)).toEqual({ captures: 1, refunds: 0 });
    expect(await payment()).toMatchObject({ captureId: first.captureId, state: 'CAPTURED' });
  });
});

describe('a refund whose earlier run died mid-call', () => {
  let world: SagaWorld;
  beforeAll(async () => {
    world = await startSagaWorld({ stepTimeoutMs: 5000, retry: { maxAttempts: 3, backoffMs: 100, maxBackoffMs: 400 } });
    await world.startOrchestrator();
    await world.startParticipant('catalog');
    await world.startParticipant('payments');
    const refuse: SagaHandler = (async () => {
      throw new SagaRefusal('no courier');
    }) as SagaHandler;
    await world.startParticipant('orders', { createOrder: refuse });
  });
  afterAll(() => world?.close());

  it('is called again (a refund is safe to repeat), so the saga ends COMPENSATED with nothing left captured', async () => {
    const id = `${world.namespace}-abandoned`;
    // As if a payments process had been SIGKILLed inside the provider's refund call.
    await world.state.set(onceKey(id, 1, 'compensation', 'refund'), JSON.stringify({ state: 'started' }));
    const saga = await world.orchestrators()[0].startSaga('placeOrder', orderInput(world, 'abandoned'), { id });
    const done = await world.settled(saga.id, 60_000);
    expect(done.state).toBe('COMPENSATED');
    expect(await books(world, done.input.orderId)).toEqual({ captures: 1, refunds: 1 });
    expect(await world.payment(done.input.orderId)).toMatchObject({ state: 'REFUNDED' });
  }, 90_000);
});

describe('a capture whose earlier run died mid-call, after the provider captured', () => {
  let world: SagaWorld;
  beforeAll(async () => {
    world = await startSagaWorld();
    await startAll(world);
  });
  afterAll(() => world?.close());

  it('is asked again with the same key, so the provider answers the first capture and the saga completes charged once', async () => {
    const id = `${world.namespace}-died`;
    const input = orderInput(world, 'died');
    // As if a payments process had been SIGKILLed after the provider captured and before it recorded so.
    await new EmbeddedPaymentProvider(world.state).capture(input.orderId, input.total, onceIdempotencyKey(id, 1, 'command', 'capture'));
    await world.state.set(onceKey(id, 1, 'command', 'capture'), JSON.stringify({ state: 'started' }));
    const saga = await world.orchestrators()[0].startSaga('placeOrder', input, { id });
    const done = await world.settled(saga.id, 60_000);
    expect(done.state).toBe('COMPLETED');
    expect(await books(world, input.orderId)).toEqual({ captures: 1, refunds: 0 });
    expect(await world.payment(input.orderId)).toMatchObject({ state: 'CAPTURED' });
  }, 90_000);
});
