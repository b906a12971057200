/** The example subgraphs' stores take an optional seed (the gateway bench brings 200 users); without one they hold the examples' records. */
import { InMemoryStateStore } from '@trellis/kit/testing';
import { UserDirectory } from '../../../subgraphs/users/directory';
import { Inventory } from '../../../subgraphs/catalog/inventory';
import { OrderBook, type Order } from '../../../subgraphs/orders/orderBook';
import { PaymentLedger } from '../../../subgraphs/payments/ledger';

describe('seeding the example subgraphs', () => {
  it('holds the examples’ records by default', async () => {
    const state = new InMemoryStateStore();
    const inventory = new Inventory(state);
    await inventory.seed();
    expect(new UserDirectory().list().map((user) => user.id)).toEqual(['u1', 'u2', 'u3']);
    expect((await inventory.list(100)).map((product) => product.id)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
  });

  it('holds exactly the seed it is given, stock, orders and payments included', async () => {
    const state = new InMemoryStateStore();
    const inventory = new Inventory(state, undefined, [{ id: 'x1', name: 'Widget', price: 3, inStock: 7 }]);
    const order: Order = { id: 'ox', userId: 'ux', items: [{ productId: 'x1', quantity: 2, unitPrice: 3 }], total: 6, status: 'SHIPPED', createdAt: '2026-11-01T00:00:00.000Z' };
    const book = new OrderBook(state, undefined, [order]);
    const ledger = new PaymentLedger(state, undefined, undefined, [{ id: 'payx', orderId: 'ox', userId: 'ux', amount: 6, state: 'CAPTURED' }]);
    await Promise.all([inventory.seed(), book.seed(), ledger.seed()]);
    expect(new UserDirectory([{ id: 'ux', name: 'X', email: 'x@example.com' }]).find('ux')?.name).toBe('X');
    expect(new UserDirectory([{ id: 'ux', name: 'X', email: 'x@example.com' }]).find('u1')).toBeUndefined();
    expect(await inventory.list(100)).toEqual([{ id: 'x1', name: 'Widget', price: 3, inStock: 7 }]);
    expect(await inventory.find('p1')).toBeUndefined();
    expect(await book.byUser('ux')).toEqual([order]);
    expect(await book.byUser('u1')).toEqual([]);
    expect((await ledger.forOrder('ox'))?.state).toBe('CAPTURED');
    expect(await ledger.forOrder('o1')).toBeUndefined();
  });
});
