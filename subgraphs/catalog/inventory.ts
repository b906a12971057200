/**
 * Products and their stock. Names and prices are reference data kept in memory; stock lives in
 * the state store as versioned records `{ available, reserved }`, changed by sagas.
 */
import type { ChangeAnnouncement, Guard, StateStore } from '@trellis/kit';
import type { VersionedValue, VersionedWrite } from '@trellis/kit';
import { SagaRefusal, type SagaHandler } from '@trellis/kit/saga';

export interface Product {
  id: string;
  name: string;
  price: number;
  inStock: number;
}

export interface Stock {
  available: number;
  reserved: number;
}

export interface StockLine {
  productId: string;
  quantity: number;
}

const SEED: Product[] = [
  { id: 'p1', name: 'Trellis Mug', price: 12.5, inStock: 40 },
  { id: 'p2', name: 'Federation Hoodie', price: 54, inStock: 12 },
  { id: 'p3', name: 'Circuit Breaker Sticker Pack', price: 4.99, inStock: 250 },
  { id: 'p4', name: 'Saga Notebook', price: 9.75, inStock: 80 },
  { id: 'p5', name: 'Gateway Desk Lamp', price: 39.9, inStock: 5 },
];

/**
 * Every product's stock shares one hash tag: an order reserves several products in one atomic
 * write, and on Redis Cluster an atomic write is one slot. The saga's dedupe records are filed
 * there too (`stockSlotOf`), so they commit with the stock they guard.
 */
export const STOCK_SLOT = '{catalog:stock}';
export const stockKey = (productId: string) => `catalog:stock:${STOCK_SLOT}:${productId}`;
/** The participant's `slotOf`: reservations and releases all write stock. */
export const stockSlotOf = () => STOCK_SLOT;

const stockOf = (stored: VersionedValue | null | undefined): Stock => (stored ? (JSON.parse(stored.value) as Stock) : { available: 0, reserved: 0 });

export class Inventory {
  private readonly catalog: Map<string, Product>;
  private readonly readStock: (key: string) => Promise<VersionedValue | null>;
  private readonly readStocks: (keys: readonly string[]) => Promise<Array<VersionedValue | null>>;

  /** `seed`: the products and their starting stock (the example's five by default; the gateway bench brings its own). */
  constructor(
    private readonly state: StateStore,
    guard?: Guard,
    private readonly seedProducts: readonly Product[] = SEED,
  ) {
    this.catalog = new Map(seedProducts.map((product) => [product.id, product]));
    const read = (key: string) => state.getVersioned(key);
    const readMany = (keys: readonly string[]) => state.getVersionedMany(keys);
    this.readStock = guard ? guard('state-store', read) : read;
    this.readStocks = guard ? guard('state-store', readMany) : readMany;
  }

  /** Writes the seed stock of every product that has none yet (a restart keeps what sagas changed). */
  async seed(): Promise<void> {
    await Promise.all(
      this.seedProducts.map((product) => this.state.compareAndSet(stockKey(product.id), 0, JSON.stringify({ available: product.inStock, reserved: 0 }))),
    );
  }

  async find(id: string): Promise<Product | undefined> {
    const product = this.catalog.get(id);
    if (!product) return undefined;
    return { ...product, inStock: (await this.stock(id)).available };
  }

  /** Products by id, in that order (null for an unknown id), their stock read in one state-store call. */
  async findMany(ids: readonly string[]): Promise<Array<Product | null>> {
    const known = ids.map((id) => this.catalog.get(id));
    const stocks = await this.readStocks(known.filter((product) => product !== undefined).map((product) => stockKey(product.id)));
    let next = 0;
    return known.map((product) => (product ? { ...product, inStock: stockOf(stocks[next++]).available } : null));
  }

  async list(first: number): Promise<Product[]> {
    const products = [...this.catalog.values()].slice(0, Math.max(0, first));
    return (await this.findMany(products.map((product) => product.id))).filter((product): product is Product => product !== null);
  }

  async stock(id: string): Promise<Stock> {
    return stockOf(await this.readStock(stockKey(id)));
  }

  /** Saga commands: reserve stock for an order, and release it when the saga is undone. */
  sagaHandlers(): Record<string, SagaHandler> {
    const reserveStock: SagaHandler = async (payload: { items: StockLine[] }, { read }) => {
      const writes: VersionedWrite[] = [];
      for (const { productId, quantity } of merge(payload.items)) {
        const stored = await read(stockKey(productId));
        if (!stored || !this.catalog.has(productId)) throw new SagaRefusal(`unknown product ${productId}`);
        const stock = JSON.parse(stored.value) as Stock;
        if (stock.available < quantity) throw new SagaRefusal(`not enough stock for ${productId}: ${stock.available} left, ${quantity} asked`);
        writes.push(versioned(productId, stored.version, { available: stock.available - quantity, reserved: stock.reserved + quantity }));
      }
      return { writes, result: { reserved: payload.items }, changes: stockChanges(writes) };
    };
    const releaseStock: SagaHandler = async (payload: { items: StockLine[] }, { read, outcomeOf }) => {
      // Release only what this saga's reservation took; a refused or never-applied one took nothing.
      if ((await outcomeOf('command'))?.outcome !== 'success') return { result: { released: false } };
      const writes: VersionedWrite[] = [];
      for (const { productId, quantity } of merge(payload.items)) {
        const stored = await read(stockKey(productId));
        if (!stored) continue;
        const stock = JSON.parse(stored.value) as Stock;
        writes.push(versioned(productId, stored.version, { available: stock.available + quantity, reserved: stock.reserved - quantity }));
      }
      return { writes, result: { released: true }, changes: stockChanges(writes) };
    };
    return { reserveStock: reserveStock as SagaHandler, releaseStock: releaseStock as SagaHandler };
  }
}

/** The gateways' caches hear of each product whose stock a saga changed (announced after the commit). */
function stockChanges(writes: VersionedWrite[]): ChangeAnnouncement[] {
  return writes.map((write) => ({ type: 'Product', key: { id: write.key.slice(stockKey('').length) }, fields: ['inStock'] }));
}

function versioned(productId: string, version: number, stock: Stock): VersionedWrite {
  return { key: stockKey(productId), expectedVersion: version, value: JSON.stringify(stock) };
}

/** One line per product, so two lines of one product cannot both pass the stock check. */
function merge(items: StockLine[]): StockLine[] {
  const totals = new Map<string, number>();
  for (const { productId, quantity } of items) totals.set(productId, (totals.get(productId) ?? 0) + quantity);
  return [...totals].map(([productId, quantity]) => ({ productId, quantity }));
}
