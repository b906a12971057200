/**
 * Checks a placeOrder request before any saga starts: known products, positive whole quantities,
 * enough stock. Prices and stock come from the catalog subgraph, asked directly as the caller.
 */
import { BadUserInputError, TrellisError, ErrorCode, type PeerSubgraphs } from '@trellis/kit';

export interface OrderLine {
  productId: string;
  quantity: number;
}

export interface PricedLine extends OrderLine {
  unitPrice: number;
}

export const MAX_LINES = 50;

export type CatalogLookup = (ids: string[], headers?: Record<string, string>) => Promise<Map<string, { price: number; inStock: number }>>;

export async function validateOrder(
  items: OrderLine[],
  paymentMethod: string,
  lookup: CatalogLookup,
  headers: Record<string, string> = {},
): Promise<{ lines: PricedLine[]; total: number }> {
  if (items.length === 0) throw new BadUserInputError('an order needs at least one item');
  if (items.length > MAX_LINES) throw new BadUserInputError(`an order takes at most ${MAX_LINES} items`);
  if (!paymentMethod.trim()) throw new BadUserInputError('paymentMethod must not be empty');
  for (const { productId, quantity } of items) {
    if (!Number.isInteger(quantity) || quantity <= 0) throw new BadUserInputError(`quantity of ${productId} must be a whole number above 0, got ${quantity}`);
  }
  const ids = [...new Set(items.map((item) => item.productId))];
  const products = await lookup(ids, headers);
  const wanted = new Map<string, number>();
  for (const { productId, quantity } of items) wanted.set(productId, (wanted.get(productId) ?? 0) + quantity);
  for (const [productId, quantity] of wanted) {
    const product = products.get(productId);
    if (!product) throw new BadUserInputError(`unknown product ${productId}`);
    if (quantity > product.inStock) throw new BadUserInputError(`not enough stock for ${productId}: ${product.inStock} left, ${quantity} asked`);
  }
  const lines = items.map((item) => ({ ...item, unitPrice: products.get(item.productId)!.price }));
  const total = Math.round(lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0) * 100) / 100;
  return { lines, total };
}

/**
 * Looks products up in the catalog subgraph itself (found through discovery, trusted by the
 * allow-list), as the caller: never through the public gateway, where every sagas instance would
 * be one anonymous client of its rate limit and a second hop of every check.
 */
export function peerCatalogLookup(peers: PeerSubgraphs): CatalogLookup {
  return async (ids, headers = {}) => {
    const variables = Object.fromEntries(ids.map((id, i) => [`id${i}`, id]));
    const query = `query PlaceOrderCatalog(${ids.map((_, i) => `$id${i}: ID!`).join(', ')}) { ${ids
      .map((_, i) => `p${i}: product(id: $id${i}) { id price inStock }`)
      .join(' ')} }`;
    const result = await peers.query<Record<string, { id: string; price: number; inStock: number } | null>>('catalog', query, variables, headers);
    if (!result.data || (result.errors?.length ?? 0) > 0) {
      throw new TrellisError(ErrorCode.SUBGRAPH_UNAVAILABLE, 'cannot check the catalog right now', { retriable: true });
    }
    return new Map(
      Object.values(result.data)
        .filter((product): product is { id: string; price: number; inStock: number } => product !== null)
        .map((product) => [product.id, product]),
    );
  };
}
