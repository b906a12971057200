/**
 * Step deadlines on real Kafka and Redis, with the payments participant in its own process frozen
 * for real (SIGSTOP): frozen for 40 s and then resumed, placeOrder (with its default timings) ends
 * COMPLETED or COMPENSATED with the books right, never FAILED; frozen for good, it ends FAILED only
 * when the refund's own deadline has passed, and the stock is released all the same. And a
 * participant whose dependency stays down gives its command up at the deadline and moves on.
 */
import type { ChildProcess } from 'node:child_process';
import { BackendUnavailableError } from '@trellis/kit';
import { DEFAULT_DEADLINE_SKEW_MS, DEFAULT_STEP_DEADLINES, type SagaHandler, type SagaRecord } from '@trellis/kit/saga';
import { DEFAULT_TIMINGS, type PlaceOrderInput, type PlaceOrderTimings } from '../../../subgraphs/sagas/placeOrderSaga';
import type { EmbeddedPaymentProvider } from '../../../subgraphs/payments/provider';
import { startSagaWorld, type SagaWorld } from '../../support/sagaWorld';
import { killChild, readyLine, spawnSagaProcess } from '../../support/processRunner';
import { realBackends } from '../../support/backends';
import { eventually } from '../../support/graphql';

const p1 = { productId: 'p1', quantity: 2, unitPrice: 12.5 };
const books = ({ captures, refunds }: { captures: number; refunds: number }) => (captures === refunds ? 'even' : `${captures} captures, ${refunds} refunds`);

describe('placeOrder with payments frozen (SIGSTOP)', () => {
  let world: SagaWorld | undefined;
  let payments: ChildProcess | undefined;

  /** A world whose orchestrator, catalog and orders run here, and payments in a process of its own, frozen once ready. */
  async function frozenPayments(timings: PlaceOrderTimings): Promise<SagaWorld> {
    world = await startSagaWorld(timings);
    await world.startOrchestrator();
    await world.startParticipant('catalog');
    await world.startParticipant('orders');
    payments = spawnSagaProcess('payments', { redisUrl: realBackends.redisUrl, kafkaBrokers: realBackends.kafkaBrokers, namespace: world.namespace });
    await readyLine(payments, 'payments');
    payments.kill('SIGSTOP');
    return world;
  }

  /** The record once `check` holds for it. */
  async function sagaWhen(id: string, check: (record: SagaRecord<PlaceOrderInput>) => boolean, timeoutMs: number): Promise<SagaRecord<PlaceOrderInput>> {
    return eventually(
      async () => {
        const record = await world!.saga(id);
        if (!record || !check(record)) throw new Error(`saga ${id}: ${JSON.stringify(record?.steps)}`);
        return record;
      },
      timeoutMs,
      100,
    );
  }

  afterEach(async () => {
    if (payments) await killChild(payments);
    payments = undefined;
    await world?.close();
    world = undefined;
  });

  it('frozen for 40 s, then resumed: COMPLETED or COMPENSATED with the books right, never FAILED', async () => {
    const w = await frozenPayments(DEFAULT_TIMINGS);
    const stockBefore = await w.stock('p1');
    const frozenAt = Date.now();
    const { id } = await w.placeOrder({ items: [p1] });
    // The charge is sent to the frozen participant and waits there, until its deadline.
    const charging = await sagaWhen(id, (record) => record.steps[1].state === 'RUNNING', 30_000);
    const chargeExpiresAt = charging.steps[1].expiresAt as number;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, frozenAt + 40_000 - Date.now())));
    const atResume = (await w.saga(id))!;
    payments!.kill('SIGCONT');

    const saga = await w.settled(id, 90_000);
    const books = await (w.ledger.provider as EmbeddedPaymentProvider).books(saga.input.orderId);
    const payment = await w.payment(saga.input.orderId);
    const order = await w.order(saga.input.orderId);
    const stock = await w.stock('p1');
    process.stdout.write(
      `payments frozen 40 s: ${atResume.state} at resume (${atResume.steps.map((s) => `${s.name} ${s.state}`).join(', ')}), then ${saga.state}; provider ${JSON.stringify(books)}\n`,
    );
    expect(atResume.state).not.toBe('FAILED');
    expect(['COMPLETED', 'COMPENSATED']).toContain(saga.state);
    if (saga.state === 'COMPLETED') {
      // Charged once and confirmed.
      expect(books).toEqual({ captures: 1, refunds: 0 });
      expect(payment).toMatchObject({ state: 'CAPTURED', sagaId: id });
      expect(order).toMatchObject({ status: 'CONFIRMED' });
      expect(stock).toEqual({ available: stockBefore.available - 2, reserved: stockBefore.reserved + 2 });
    } else {
      // The charge gave up at its 30 s deadline during the freeze (no retry could start before it:
      // at most one 2 s backoff early), and the refund runs on its own day; not charged in the end,
      // the stock back, no order.
      expect(chargeExpiresAt - Date.parse(charging.createdAt)).toBeGreaterThanOrEqual(30_000);
      expect(atResume.steps[1]).toMatchObject({ state: 'COMPENSATING', gaveUp: 'deadline' });
      const refundStartedAt = (atResume.steps[1].expiresAt as number) - DEFAULT_STEP_DEADLINES.compensationMs;
      expect(refundStartedAt).toBeGreaterThanOrEqual(chargeExpiresAt - 2000);
      expect(books.refunds).toBe(books.captures);
      expect(payment?.state ?? 'NONE').not.toBe('CAPTURED');
      expect(order?.status ?? 'NONE').not.toBe('CONFIRMED');
      expect(stock).toEqual(stockBefore);
      expect(saga.steps.map((s) => s.state)).toEqual(['COMPENSATED', 'COMPENSATED', 'PENDING']);
    }
  }, 180_000);

  it('a participant whose dependency stays down stops retrying at the deadline and moves on to the compensation behind it', async () => {
    const timings: PlaceOrderTimings = { stepTimeoutMs: 1000, retry: { backoffMs: 100, maxBackoffMs: 400 }, deadlines: { commandMs: 3000 } };
    world = await startSagaWorld(timings);
    const w = world;
    await w.startOrchestrator();
    await w.startParticipant('catalog');
    await w.startParticipant('payments');
    const calls: Array<{ name: string; at: number }> = [];
    const cancelOrder = w.orders.sagaHandlers().cancelOrder;
    await w.startParticipant('orders', {
      // The orders database is down for good: every try fails as retriable, and the bus retries it in place.
      createOrder: (async () => {
        calls.push({ name: 'createOrder', at: Date.now() });
        throw new BackendUnavailableError('orders-db', 'connection refused');
      }) as SagaHandler,
      cancelOrder: (async (payload: never, context) => (calls.push({ name: 'cancelOrder', at: Date.now() }), cancelOrder(payload, context))) as SagaHandler,
    });
    const stockBefore = await w.stock('p1');
    const { id } = await w.placeOrder({ items: [p1] });
    const creating = await sagaWhen(id, (record) => record.cursor === 2 && record.steps[2].state === 'RUNNING', 30_000);
    const deadline = creating.steps[2].expiresAt as number;

    const saga = await w.settled(id, 60_000);
    expect(saga.state).toBe('COMPENSATED');
    expect(saga.steps[2]).toMatchObject({ state: 'COMPENSATED', gaveUp: 'deadline' });
    // The key moved on: the compensation queued behind the stuck command ran.
    expect(calls.map((call) => call.name)).toContain('cancelOrder');
    const creates = calls.filter((call) => call.name === 'createOrder');
    expect(creates.length).toBeGreaterThan(0);
    // No try begun after the deadline and the allowed skew (the next retry is refused as expired
    // instead); a try begun just in time reaches the handler after its reads, hence the margin.
    expect(Math.max(...creates.map((call) => call.at))).toBeLessThanOrEqual(deadline + DEFAULT_DEADLINE_SKEW_MS + 2000);
    expect(await w.stock('p1')).toEqual(stockBefore);
    expect(books(await (w.ledger.provider as EmbeddedPaymentProvider).books(saga.input.orderId))).toBe('even');
  }, 120_000);

  it('frozen for good: FAILED only once the refund deadline has passed, naming the charge, and the stock released all the same', async () => {
    const timings: PlaceOrderTimings = { stepTimeoutMs: 1000, retry: { backoffMs: 100, maxBackoffMs: 400 }, deadlines: { commandMs: 3000, compensationMs: 6000 } };
    const w = await frozenPayments(timings);
    const stockBefore = await w.stock('p1');
    const { id } = await w.placeOrder({ items: [p1] });

    // The charge gives up at its deadline and the refund starts: when it gives up is in the record.
    const refunding = await sagaWhen(id, (record) => record.state === 'COMPENSATING' && record.cursor === 1, 30_000);
    const refundExpiresAt = refunding.steps[1].expiresAt as number;
    // (Its error is the charge's deadline until the refund's first retry replaces it with its own.)
    expect(refunding.steps[1]).toMatchObject({ state: 'COMPENSATING', gaveUp: 'deadline' });
    expect(refundExpiresAt - Date.parse(refunding.updatedAt)).toBeLessThanOrEqual(6000);

    const saga = await w.settled(id, 60_000);
    expect(saga.state).toBe('FAILED');
    expect(saga.error).toBe('could not undo chargePayment');
    // Not before the refund's own deadline.
    expect(Date.parse(saga.updatedAt)).toBeGreaterThanOrEqual(refundExpiresAt);
    expect(saga.steps[1]).toMatchObject({ state: 'COMPENSATION_FAILED', gaveUp: 'deadline', error: expect.stringMatching(/^deadline of 6000 ms passed after \d+ attempt\(s\); last: no reply within 1000 ms/) });
    expect(saga.steps[1].attempts).toBeGreaterThan(3);
    // The refund that could not be made did not leave the stock reserved.
    expect(saga.steps.map((s) => s.state)).toEqual(['COMPENSATED', 'COMPENSATION_FAILED', 'PENDING']);
    expect(await w.stock('p1')).toEqual(stockBefore);
  }, 120_000);
});
