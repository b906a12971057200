/**
 * A second version of placeOrder (a shipping step added) deployed while sagas of the first are in
 * flight, with orchestrators of both versions running on real Kafka and Redis: every saga finishes
 * on the definition it started with, none FAILED, and a v2 saga that met the v1-only orchestrator
 * (its reply landed there) was parked, its reply kept, and finished by a v2 orchestrator.
 */
import { Registry } from 'prom-client';
import { listParkedSagas, versionOf, type SagaDefinition, type SagaHandler, type SagaOrchestrator, type SagaRecord } from '@trellis/kit/saga';
import { placeOrderSaga, type PlaceOrderInput, type PlaceOrderTimings } from '../../../subgraphs/sagas/placeOrderSaga';
import { eventually } from '../../support/graphql';
import { recordingLogger } from '../../support/recordingLogger';
import { startSagaWorld, type SagaWorld } from '../../support/sagaWorld';

const TIMINGS: PlaceOrderTimings = { stepTimeoutMs: 5000, retry: { maxAttempts: 3, backoffMs: 200, maxBackoffMs: 1000 } };
const v1 = placeOrderSaga(TIMINGS);
const v2: SagaDefinition<PlaceOrderInput> = {
  ...v1,
  version: '2',
  steps: [
    ...v1.steps,
    { name: 'scheduleShipping', participant: 'orders', command: 'scheduleShipping', payload: (input) => ({ orderId: input.orderId }), timeoutMs: TIMINGS.stepTimeoutMs, retry: TIMINGS.retry },
  ],
};
const V1_STEPS = ['reserveStock', 'chargePayment', 'createOrder'];
const V2_STEPS = [...V1_STEPS, 'scheduleShipping'];
const BATCH = 6;

/** Each handler takes a moment, so sagas are still in flight when the second version is deployed. */
const slow = (handlers: Record<string, SagaHandler>): Record<string, SagaHandler> =>
  Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [
      name,
      (async (payload: never, context) => {
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
        return handler(payload, context);
      }) as SagaHandler,
    ]),
  );

describe('a second version of placeOrder deployed beside the first', () => {
  let world: SagaWorld;
  const shipped = new Set<string>();

  const scheduleShipping = (async (payload: { orderId: string }) => {
    shipped.add(payload.orderId);
    return { result: { shipment: `ship-${payload.orderId}` } };
  }) as SagaHandler;

  beforeAll(async () => {
    world = await startSagaWorld(TIMINGS);
    await world.startParticipant('catalog', slow(world.inventory.sagaHandlers()));
    await world.startParticipant('payments', slow(world.ledger.sagaHandlers()));
    await world.startParticipant('orders', slow({ ...world.orders.sagaHandlers(), scheduleShipping }));
  });
  afterAll(async () => world?.close());

  it('finishes every saga on the version it started with; a v2 saga that met the v1 orchestrator is parked, then finished by v2', async () => {
    const input = (id: string): PlaceOrderInput => ({ orderId: `o-${id}`, userId: 'u1', items: [{ productId: 'p1', quantity: 1, unitPrice: 12.5 }], total: 12.5, paymentMethod: 'card-ok' });
    const start = async (orchestrator: SagaOrchestrator, id: string) => orchestrator.startSaga('placeOrder', input(id), { id });
    const fast = { parkedScanIntervalMs: 500 };

    // v1 runs alone; its sagas wait at createOrder (orders held back) until v2 has arrived, so all are in flight across the deploy.
    await world.stopParticipant('orders');
    const old = recordingLogger();
    const oldRegistry = new Registry();
    const v1Orchestrator = await world.startOrchestrator({ definitions: [v1], logger: old.logger, registry: oldRegistry, ...fast });
    const v1Ids = Array.from({ length: BATCH }, (_, i) => `${world.namespace}-v1-${i}`);
    for (const id of v1Ids) await start(v1Orchestrator, id);

    // The deploy: an orchestrator with both versions joins; new sagas start on v2 while v1 ones run on.
    const v2Orchestrator = await world.startOrchestrator({ definitions: [v1, v2], ...fast });
    const inFlight = await Promise.all(v1Ids.map((id) => world.saga(id)));
    expect(inFlight.map((record) => record?.state)).toEqual(v1Ids.map(() => 'RUNNING'));
    await world.startParticipant('orders', slow({ ...world.orders.sagaHandlers(), scheduleShipping }));
    const v2Ids = Array.from({ length: BATCH }, (_, i) => `${world.namespace}-v2-${i}`);
    for (const id of v2Ids) await start(v2Orchestrator, id);

    // One v2 saga whose reply must land on the v1 orchestrator: its participant is held back
    // until the v2 orchestrator has left, so the v1 one is the only reader of the replies.
    await world.stopParticipant('catalog');
    const pinned = `${world.namespace}-v2-pinned`;
    expect(await start(v2Orchestrator, pinned)).toMatchObject({ version: versionOf(v2), versionLabel: '2' });
    await world.stopOrchestrator(v2Orchestrator);
    await world.startParticipant('catalog', slow(world.inventory.sagaHandlers()));

    let parked: SagaRecord<PlaceOrderInput> | null = null;
    await eventually(async () => {
      expect((await listParkedSagas(world.state)).find((saga) => saga.sagaId === pinned)).toMatchObject({ reason: 'unknown-version', definition: 'placeOrder', version: versionOf(v2), heldReplies: 1 });
      parked = await world.saga(pinned);
      expect(parked?.heldReplies).toEqual([expect.objectContaining({ sagaId: pinned, stepIndex: 0, action: 'command', outcome: 'success' })]);
    }, 60_000);
    // Parked, not moved by the orchestrator that lacks its version: its first step still waits for it.
    expect(parked!.steps.map((step) => step.state)).toEqual(['RUNNING', 'PENDING', 'PENDING', 'PENDING']);
    expect(old.lines.filter((line) => line.msg.startsWith('saga parked') && line.sagaId === pinned)).toHaveLength(1);
    const parkedTotal = (await oldRegistry.getSingleMetric('trellis_sagas_parked_total')!.get()).values;
    expect(parkedTotal.find((value) => value.labels.reason === 'unknown-version')?.value).toBeGreaterThanOrEqual(1);

    // v2 again: it takes the parked sagas back and finishes them.
    await world.startOrchestrator({ definitions: [v1, v2], ...fast });
    const settled = async (ids: string[]) => Promise.all(ids.map((id) => world.settled(id, 90_000)));
    const [v1Done, v2Done] = await Promise.all([settled(v1Ids), settled([...v2Ids, pinned])]);
    for (const record of v1Done) {
      expect([record.id, record.state, record.version, record.steps.map((step) => step.name)]).toEqual([record.id, 'COMPLETED', versionOf(v1), V1_STEPS]);
    }
    for (const record of v2Done) {
      expect([record.id, record.state, record.version, record.steps.map((step) => step.name)]).toEqual([record.id, 'COMPLETED', versionOf(v2), V2_STEPS]);
      expect(record.steps.every((step) => step.state === 'SUCCEEDED')).toBe(true);
      expect(record.heldReplies).toBeUndefined();
    }
    // The added step ran for exactly the v2 sagas.
    expect([...shipped].sort()).toEqual([...v2Ids, pinned].map((id) => `o-${id}`).sort());
    expect(await listParkedSagas(world.state)).toEqual([]);
    const parkings = old.lines.filter((line) => line.msg.startsWith('saga parked')).length;
    process.stdout.write(`versions test: ${BATCH} v1 and ${BATCH + 1} v2 sagas completed; the v1 orchestrator parked ${parkings} v2 saga(s)\n`);
  });
});
