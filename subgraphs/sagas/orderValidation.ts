/**
 * Checks a placeOrder request before any saga starts: known products, positive whole quantities,
 * enough stock. Prices and stock come from the catalog through the gateway (guarded).
 */
import { BadUserInputError, type Guard } from '@trellis/kit';
import { TrellisError, ErrorCode } from '@trellis/kit';

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

/** Looks products up through the gateway's unified endpoint. */
export function gatewayCatalogLookup(gatewayUrl: string, guard: Guard): CatalogLookup {
  const post = guard('gateway', async (body: string, headers: Record<string, string>) => {
    const response = await fetch(gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(3000),
    });
    if (!response.ok) throw new Error(`gateway answered ${response.status}`);
    return (await response.json()) as { data?: Record<string, { id: string; price: number; inStock: number } | null>; errors?: unknown[] };
  });
  return async (ids, headers = {}) => {
    const variables = Object.fromEntries(ids.map((id, i) => [`id${i}`, id]));
    const query = `query PlaceOrderCatalog(${ids.map((_, i) => `$id${i}: ID!`).join(', ')}) { ${ids
      .map((_, i) => `p${i}: product(id: $id${i}) { id price inStock }`)
      .join(' ')} }`;
    const result = await post(JSON.stringify({ query, variables }), headers);
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
