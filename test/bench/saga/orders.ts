/**
 * Which order each saga places. Stock is finite (387 units in the seed) and placeOrder refuses an
 * order the catalog cannot fill before any saga starts, so the plan spends the stock on card-ok
 * orders (COMPLETED) and fills the rest with declined cards (reserve, refused charge, release:
 * COMPENSATED), which give their stock back.
 */
export interface PlannedOrder {
  items: Array<{ productId: string; quantity: number }>;
  paymentMethod: 'card-ok' | 'card-declined';
}

export interface ProductStock {
  id: string;
  inStock: number;
}

const declined = (productId: string): PlannedOrder => ({ items: [{ productId, quantity: 1 }], paymentMethod: 'card-declined' });

/** `count` declined orders on the best-stocked product: warm-up that leaves the stock as it was. */
export function warmupOrders(stock: ProductStock[], count: number): PlannedOrder[] {
  return Array.from({ length: count }, () => declined(deepest(stock).id));
}

/**
 * `count` orders of one unit each, card-ok ones spread evenly through the run. Declined orders all
 * hold a unit of the best-stocked product while in flight, so `concurrency` of its units stay out of
 * the card-ok budget: no order is ever refused for stock.
 */
export function planOrders(stock: ProductStock[], count: number, concurrency: number): PlannedOrder[] {
  const reserve = deepest(stock);
  const budget = new Map(stock.map((product) => [product.id, product.id === reserve.id ? Math.max(0, product.inStock - concurrency) : product.inStock]));
  const okCount = Math.min(count, [...budget.values()].reduce((sum, units) => sum + units, 0));
  const orders: PlannedOrder[] = [];
  let next = 0;
  for (let i = 0; i < count; i++) {
    const isOk = Math.floor(((i + 1) * okCount) / count) > Math.floor((i * okCount) / count);
    if (!isOk) {
      orders.push(declined(reserve.id));
      continue;
    }
    // Round-robin over the products that still have budget.
    for (;;) {
      const product = stock[next++ % stock.length];
      const left = budget.get(product.id)!;
      if (left === 0) continue;
      budget.set(product.id, left - 1);
      orders.push({ items: [{ productId: product.id, quantity: 1 }], paymentMethod: 'card-ok' });
      break;
    }
  }
  return orders;
}

function deepest(stock: ProductStock[]): ProductStock {
  return stock.reduce((best, product) => (product.inStock > best.inStock ? product : best));
}
