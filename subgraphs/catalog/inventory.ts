/** Products and their stock, kept in memory. */
export interface Product {
  id: string;
  name: string;
  price: number;
  inStock: number;
}

const SEED: Product[] = [
  { id: 'p1', name: 'Trellis Mug', price: 12.5, inStock: 40 },
  { id: 'p2', name: 'Federation Hoodie', price: 54, inStock: 12 },
  { id: 'p3', name: 'Circuit Breaker Sticker Pack', price: 4.99, inStock: 250 },
  { id: 'p4', name: 'Saga Notebook', price: 9.75, inStock: 80 },
  { id: 'p5', name: 'Gateway Desk Lamp', price: 39.9, inStock: 5 },
];

export class Inventory {
  private readonly products = new Map(SEED.map((product) => [product.id, { ...product }]));

  find(id: string): Product | undefined {
    return this.products.get(id);
  }

  list(first: number): Product[] {
    return [...this.products.values()].slice(0, Math.max(0, first));
  }
}
