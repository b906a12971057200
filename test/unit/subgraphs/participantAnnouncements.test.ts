/**
 * The example participants announce what their saga steps change, so the gateways' entity caches
 * drop it: stock reserved and released (`Product.inStock`), payment captured and refunded
 * (`Order.payment`), order created (`Order`, `User.orders`) and cancelled (`Order.status`).
 * Each runs through the kit's participant on the embedded bus and store, as in production.
 */
import { InMemoryEventBus, type ChangeAnnouncement } from '@trellis/kit/internal/events';
import { InMemoryStateStore } from '@trellis/kit/internal/state';
import { createLogger } from '@trellis/kit/internal/logging';
import { handleSagaCommands, type SagaAction, type SagaHandler, type SagaReply } from '@trellis/kit/internal/saga';
import { Inventory, stockKey, stockSlotOf } from '../../../subgraphs/catalog/inventory';
import { PaymentLedger, paymentSlotOf } from '../../../subgraphs/payments/ledger';
import { OrderBook, orderSlotOf } from '../../../subgraphs/orders/orderBook';
import { eventually } from '../../support/graphql';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('participants announce their changes', () => {
  let bus: InMemoryEventBus;
  let state: InMemoryStateStore;
  let replies: SagaReply[];
  let announced: ChangeAnnouncement[][];

  beforeEach(async () => {
    bus = new InMemoryEventBus();
    state = new InMemoryStateStore();
    replies = [];
    announced = [];
    await bus.subscribe({ groupId: 'replies', topics: ['saga.replies'], fromBeginning: true, handler: async (m) => void replies.push(JSON.parse(m.value)) });
  });
  afterEach(() => bus.close());

  const participate = (name: string, handlers: Record<string, SagaHandler>, slotOf: Parameters<typeof handleSagaCommands>[2]['slotOf']) =>
    handleSagaCommands(name, handlers, { events: bus, state, logger, slotOf, announceChange: async (changes) => void announced.push([...(changes as ChangeAnnouncement[])]) });

  /** Sends one command (or compensation) of saga `s1` and waits for its reply. */
  const run = async (participant: string, action: SagaAction, name: string, payload: unknown) => {
    const before = replies.length;
    await bus.publish(`saga.commands.${participant}`, {
      key: 's1',
      value: JSON.stringify({ sagaId: 's1', saga: 'placeOrder', step: participant, stepIndex: 0, action, name, attempt: 1, payload }),
    });
    await eventually(async () => expect(replies.length).toBe(before + 1));
    expect(replies[before]).toMatchObject({ outcome: 'success' });
  };

  it('catalog: stock reserved and released, each product once', async () => {
    const inventory = new Inventory(state);
    await inventory.seed();
    await participate('catalog', inventory.sagaHandlers(), stockSlotOf);
    const items = [
      { productId: 'p1', quantity: 2 },
      { productId: 'p2', quantity: 1 },
      { productId: 'p1', quantity: 1 },
    ];
    await run('catalog', 'command', 'reserveStock', { items });
    expect(JSON.parse((await state.getVersioned(stockKey('p1')))!.value)).toEqual({ available: 37, reserved: 3 });
    await run('catalog', 'compensation', 'releaseStock', { items });
    const inStock = (id: string) => ({ type: 'Product', key: { id }, fields: ['inStock'] });
    expect(announced).toEqual([
      [inStock('p1'), inStock('p2')],
      [inStock('p1'), inStock('p2')],
    ]);
  });

  it('payments: payment captured and refunded', async () => {
    const ledger = new PaymentLedger(state);
    await participate('payments', ledger.sagaHandlers(), paymentSlotOf);
    await run('payments', 'command', 'charge', { orderId: 'o9', userId: 'u1', amount: 20, method: 'card' });
    await run('payments', 'compensation', 'refund', { orderId: 'o9' });
    expect(announced).toEqual([[{ type: 'Order', key: { id: 'o9' }, fields: ['payment'] }], [{ type: 'Order', key: { id: 'o9' }, fields: ['payment'] }]]);
  });

  it('orders: order created (the order, its user’s list) and cancelled', async () => {
    const book = new OrderBook(state);
    await participate('orders', book.sagaHandlers(), orderSlotOf);
    await run('orders', 'command', 'createOrder', { id: 'o9', userId: 'u1', items: [{ productId: 'p1', quantity: 1, unitPrice: 12.5 }], total: 12.5 });
    await run('orders', 'compensation', 'cancelOrder', { id: 'o9' });
    expect(announced).toEqual([
      [
        { type: 'Order', key: { id: 'o9' } },
        { type: 'User', key: { id: 'u1' }, fields: ['orders'] },
      ],
      [{ type: 'Order', key: { id: 'o9' }, fields: ['status'] }],
    ]);
  });
});
