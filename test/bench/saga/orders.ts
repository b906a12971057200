/**
 * Which order each saga places, and for whom. Stock is finite (387 units in the seed) and
 * placeOrder refuses an order the catalog cannot fill before any saga starts, so the plan spends
 * the stock on card-ok orders (COMPLETED), shared out between the sweep's levels, and fills the
 * rest with declined cards (reserve, refused charge, release: COMPENSATED), which give their stock
 * back. Orders come from many users in turn, and card-ok ones go round every product in stock.
 */
export interface PlannedOrder {
  items: Array<{ productId: string; quantity: number }>;
  paymentMethod: 'card-ok' | 'card-declined';
  /** Which of the bench's users places it (0-based). */
  user: number;
}

export interface ProductStock {
  id: string;
  inStock: number;
}

export interface Level {
  sagas: number;
  concurrency: number;
}

const declined = (productId: string, user: number): PlannedOrder => ({ items: [{ productId, quantity: 1 }], paymentMethod: 'card-declined', user });

/** `count` declined orders on the best-stocked product: warm-up that leaves the stock as it was. */
export function warmupOrders(stock: ProductStock[], count: number, users: number): PlannedOrder[] {
  return Array.from({ length: count }, (_, i) => declined(deepest(stock).id, i % users));
}

/**
 * One plan per level. Declined orders all hold a unit of the best-stocked product while in
 * flight, so the highest concurrency's worth of its units stays out of the card-ok budget: no
 * order is ever refused for stock. The budget is shared between levels in proportion to their sagas.
 */
export function planSweep(stock: ProductStock[], levels: Level[], users: number): PlannedOrder[][] {
  const reserve = deepest(stock);
  const held = Math.max(...levels.map((level) => level.concurrency));
  const budget = new Map(stock.map((product) => [product.id, product.id === reserve.id ? Math.max(0, product.inStock - held) : product.inStock]));
  const units = [...budget.values()].reduce((sum, left) => sum + left, 0);
  const total = levels.reduce((sum, level) => sum + level.sagas, 0);
  let nextProduct = 0;
  let nextUser = 0;
  // A stride coprime with the user count visits every user, not in a plain 0, 1, 2 order.
  const stride = coprimeStride(users);
  return levels.map((level) => {
    const okCount = Math.min(level.sagas, Math.floor((units * level.sagas) / total));
    const orders: PlannedOrder[] = [];
    for (let i = 0; i < level.sagas; i++) {
      const user = (nextUser = (nextUser + stride) % users);
      const isOk = Math.floor(((i + 1) * okCount) / level.sagas) > Math.floor((i * okCount) / level.sagas);
      if (!isOk) {
        orders.push(declined(reserve.id, user));
        continue;
      }
      for (;;) {
        const product = stock[nextProduct++ % stock.length];
        const left = budget.get(product.id)!;
        if (left === 0) continue;
        budget.set(product.id, left - 1);
        orders.push({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card-ok', user });
        break;
      }
    }
    return orders;
  });
}

function coprimeStride(n: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  for (let stride = Math.max(1, Math.floor(n * 0.618)); stride > 1; stride--) if (gcd(stride, n) === 1) return stride;
  return 1;
}

function deepest(stock: ProductStock[]): ProductStock {
  return stock.reduce((best, product) => (product.inStock > best.inStock ? product : best));
}
