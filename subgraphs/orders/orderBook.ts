/** Orders, kept in memory. Totals are captured when an order is placed, as a shop's ledger would. */
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

export class OrderBook {
  private readonly orders = new Map(SEED.map((order) => [order.id, structuredClone(order)]));

  find(id: string): Order | undefined {
    return this.orders.get(id);
  }

  /** Newest first. */
  byUser(userId: string): Order[] {
    return [...this.orders.values()]
      .filter((order) => order.userId === userId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}
