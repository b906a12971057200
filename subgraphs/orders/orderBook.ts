/**
 * Orders, in the state store: one versioned record per order and a per-user index, both written
 * in one compare-and-set. Totals are captured when an order is placed, as a shop's ledger would.
 */
import type { ChangeAnnouncement, Guard, StateStore } from '@trellis/kit';
import type { VersionedValue, VersionedWrite } from '@trellis/kit';
import type { SagaHandler } from '@trellis/kit/saga';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'SHIPPED' | 'DELIVERED' | 'CANCELLED';

export interface OrderItem {
  productId: string;
  quantity: number;
  unitPrice: number;
}

export interface Order {
  id: string;
  userId: string;
  items: OrderItem[];
  total: number;
  status: OrderStatus;
  createdAt: string;
}

const SEED: Order[] = [
  {
    id: 'o1',
    userId: 'u1',
    items: [
      { productId: 'p1', quantity: 2, unitPrice: 12.5 },
      { productId: 'p3', quantity: 1, unitPrice: 4.99 },
    ],
    total: 29.99,
    status: 'DELIVERED',
    createdAt: '2026-10-02T09:30:00.000Z',
  },
  {
    id: 'o2',
    userId: 'u1',
    items: [{ productId: 'p2', quantity: 1, unitPrice: 54 }],
    total: 54,
    status: 'SHIPPED',
    createdAt: '2026-11-20T16:05:00.000Z',
  },
  {
    id: 'o3',
    userId: 'u2',
    items: [{ productId: 'p4', quantity: 3, unitPrice: 9.75 }],
    total: 29.25,
    status: 'CONFIRMED',
    createdAt: '2026-11-22T11:45:00.000Z',
  },
];

/**
 * An order and its user's index are written in one atomic write, and an order is found by its id
 * alone (`Order @key(fields: "id")`), so neither can carry the other's tag: the order book is one
 * hash tag, one slot on Redis Cluster, where the saga's dedupe records are filed too (`orderSlotOf`).
 */
export const ORDERS_SLOT = '{orders}';
export const orderKey = (id: string) => `orders:order:${ORDERS_SLOT}:${id}`;
export const userOrdersKey = (userId: string) => `orders:by-user:${ORDERS_SLOT}:${userId}`;
/** The participant's `slotOf`: creating and cancelling an order both write the book. */
export const orderSlotOf = () => ORDERS_SLOT;

export class OrderBook {
  private readonly read: (key: string) => Promise<VersionedValue | null>;
  private readonly readMany: (keys: readonly string[]) => Promise<Array<VersionedValue | null>>;

  /** `seedOrders`: the orders written at start when missing (the example's three by default; the gateway bench brings its own). */
  constructor(
    private readonly state: StateStore,
    guard?: Guard,
    private readonly seedOrders: readonly Order[] = SEED,
  ) {
    const read = (key: string) => state.getVersioned(key);
    const readMany = (keys: readonly string[]) => state.getVersionedMany(keys);
    this.read = guard ? guard('state-store', read) : read;
    this.readMany = guard ? guard('state-store', readMany) : readMany;
  }

  /** Writes the seed orders that are missing (a restart keeps what sagas added). */
  async seed(): Promise<void> {
    for (const order of this.seedOrders) {
      const exists = await this.state.getVersioned(orderKey(order.id));
      if (!exists) await this.state.compareAndSetMany(await this.creation(order, (key) => this.state.getVersioned(key)));
    }
  }

  async find(id: string): Promise<Order | undefined> {
    const stored = await this.read(orderKey(id));
    return stored ? (JSON.parse(stored.value) as Order) : undefined;
  }

  /** Orders by id, in that order (null for a missing one), in one state-store call. */
  async findMany(ids: readonly string[]): Promise<Array<Order | null>> {
    const stored = await this.readMany(ids.map(orderKey));
    return stored.map((record) => (record ? (JSON.parse(record.value) as Order) : null));
  }

  /** Newest first. */
  async byUser(userId: string): Promise<Order[]> {
    const index = await this.read(userOrdersKey(userId));
    const ids = index ? (JSON.parse(index.value) as string[]) : [];
    const orders = await this.findMany(ids);
    return orders.filter((order): order is Order => order !== null).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** Saga commands: create the order, and cancel it when the saga is undone. */
  sagaHandlers(now: () => Date = () => new Date()): Record<string, SagaHandler> {
    const createOrder = async (payload: Omit<Order, 'status' | 'createdAt'>, { read }: Parameters<SagaHandler>[1]) => {
      const existing = await read(orderKey(payload.id));
      if (existing) return { result: { orderId: payload.id } };
      const order: Order = { ...payload, status: 'CONFIRMED', createdAt: now().toISOString() };
      // A new order, and one more in its user's list (announced after the commit).
      const changes: ChangeAnnouncement[] = [
        { type: 'Order', key: { id: order.id } },
        { type: 'User', key: { id: order.userId }, fields: ['orders'] },
      ];
      return { writes: await this.creation(order, read), result: { orderId: order.id }, changes };
    };
    const cancelOrder = async (payload: { id: string }, { read }: Parameters<SagaHandler>[1]) => {
      const stored = await read(orderKey(payload.id));
      if (!stored) return { result: { cancelled: false } };
      const order = JSON.parse(stored.value) as Order;
      const writes: VersionedWrite[] = [{ key: orderKey(order.id), expectedVersion: stored.version, value: JSON.stringify({ ...order, status: 'CANCELLED' }) }];
      return { writes, result: { cancelled: true }, changes: [{ type: 'Order', key: { id: order.id }, fields: ['status'] }] };
    };
    return { createOrder: createOrder as SagaHandler, cancelOrder: cancelOrder as SagaHandler };
  }

  private async creation(order: Order, read: (key: string) => Promise<VersionedValue | null>): Promise<VersionedWrite[]> {
    const index = await read(userOrdersKey(order.userId));
    const ids = index ? (JSON.parse(index.value) as string[]) : [];
    return [
      { key: orderKey(order.id), expectedVersion: 0, value: JSON.stringify(order) },
      { key: userOrdersKey(order.userId), expectedVersion: index?.version ?? 0, value: JSON.stringify([...ids, order.id]) },
    ];
  }
}
