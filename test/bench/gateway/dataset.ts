/**
 * The bench's data, seeded into the four example subgraphs instead of their few example records:
 * 200 users (each with a token's worth of scopes), 100 products, one to three orders per user with
 * one to three lines each, a payment for every order that is not pending. Generated, not random,
 * so every run and every target sees the same records.
 */
import type { User } from '../../../subgraphs/users/directory';
import type { Product } from '../../../subgraphs/catalog/inventory';
import type { Order, OrderStatus } from '../../../subgraphs/orders/orderBook';
import type { Payment, PaymentState } from '../../../subgraphs/payments/ledger';

export const USER_COUNT = 200;
export const PRODUCT_COUNT = 100;
/** Products the staleness part changes (staleness.ts), apart from the workloads' ones. */
export const CHANGING_PRODUCT_COUNT = 20;

/** What a protected field of the bench's documents needs (the subgraphs' `@requiresScopes`). */
export const SCOPE_EMAIL = 'users:email';
export const SCOPE_PAYMENTS = 'payments:read';

export interface BenchUser extends User {
  /** The scopes in this user's token: one in ten lacks `payments:read`, another one in ten `users:email`. */
  scopes: string[];
}

export interface Dataset {
  users: BenchUser[];
  products: Product[];
  /** Every user's orders, newest first (the order `User.orders` answers in). */
  orders: Order[];
  payments: Payment[];
  /**
   * Products only the staleness part reads and changes: seeded after the others (no page of
   * `products` reaches them), in no order, never asked by a workload, so changing them leaves
   * every workload's expected answers as they are while the mix runs beside the changes.
   */
  changing: Product[];
}

const STATUSES: OrderStatus[] = ['DELIVERED', 'SHIPPED', 'CONFIRMED', 'PENDING', 'CANCELLED'];
const PAYMENT_STATES: Record<OrderStatus, PaymentState | undefined> = { DELIVERED: 'CAPTURED', SHIPPED: 'CAPTURED', CONFIRMED: 'AUTHORIZED', PENDING: undefined, CANCELLED: 'REFUNDED' };
const WORDS = ['Trellis', 'Federation', 'Gateway', 'Saga', 'Circuit', 'Subgraph', 'Schema', 'Resolver', 'Planner', 'Breaker'];
const THINGS = ['Mug', 'Hoodie', 'Sticker Pack', 'Notebook', 'Desk Lamp', 'Cap', 'Tote Bag', 'Poster', 'Pen', 'Socks'];

function scopesOf(n: number): string[] {
  if (n % 10 === 3) return [SCOPE_EMAIL];
  if (n % 10 === 7) return [SCOPE_PAYMENTS];
  return [SCOPE_PAYMENTS, SCOPE_EMAIL];
}

const cents = (value: number) => Math.round(value * 100) / 100;

export function buildDataset(): Dataset {
  const products: Product[] = Array.from({ length: PRODUCT_COUNT }, (_, i) => ({
    id: `p${i + 1}`,
    name: `${WORDS[i % 10]} ${THINGS[Math.floor(i / 10) % 10]}`,
    price: cents(2 + ((i * 37) % 9700) / 100),
    inStock: (i * 53) % 300,
  }));
  const users: BenchUser[] = Array.from({ length: USER_COUNT }, (_, i) => ({
    id: `u${i + 1}`,
    name: `User ${i + 1}`,
    email: `user${i + 1}@example.com`,
    scopes: scopesOf(i + 1),
  }));
  const orders: Order[] = [];
  const payments: Payment[] = [];
  users.forEach((user, u) => {
    const count = 1 + (u % 3);
    for (let k = 0; k < count; k++) {
      const lines = 1 + ((u + k) % 3);
      const items = Array.from({ length: lines }, (_, j) => {
        const product = products[(u * 7 + k * 13 + j * 29) % PRODUCT_COUNT];
        return { productId: product.id, quantity: 1 + ((u + j) % 4), unitPrice: product.price };
      });
      const status = STATUSES[(u + k) % STATUSES.length];
      // Newest first: the k-th order of a user is k days older than the one before.
      const createdAt = new Date(Date.UTC(2026, 10, 28 - k, 12, u % 60)).toISOString();
      const order: Order = { id: `o${u + 1}-${k + 1}`, userId: user.id, items, total: cents(items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0)), status, createdAt };
      orders.push(order);
      const state = PAYMENT_STATES[status];
      if (state) payments.push({ id: `pay-${order.id}`, orderId: order.id, userId: user.id, amount: order.total, state });
    }
  });
  const changing: Product[] = Array.from({ length: CHANGING_PRODUCT_COUNT }, (_, i) => ({ id: `changing${i + 1}`, name: `Changing ${THINGS[i % 10]}`, price: cents(5 + i), inStock: 100 + i }));
  return { users, products, orders, payments, changing };
}
