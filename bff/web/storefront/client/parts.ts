/** Pieces several pages share: product cards, order lists, the notice for parts that could not be loaded. */
import type { Order, Partial, Product } from './api';
import { h, money } from './dom';

export function productCard(product: Product): HTMLElement {
  return h(
    'li',
    { class: 'card product' },
    h('div', { class: 'product-art', 'aria-hidden': 'true' }, product.name.slice(0, 1)),
    h('h3', {}, h('a', { href: `#/product/${product.id}` }, product.name)),
    h('p', { class: 'price' }, money(product.price)),
    h(
      'p',
      { class: product.inStock > 0 ? 'stock' : 'stock out' },
      product.inStock > 0 ? `${product.inStock} in stock` : 'Out of stock',
    ),
  );
}

export function unavailable(what: string): HTMLElement {
  return h('span', { class: 'unavailable' }, `${what} unavailable`);
}

export function orderList(orders: Order[]): HTMLElement {
  if (orders.length === 0) return h('p', { class: 'muted' }, 'No orders yet. Pick a product and place one.');
  return h(
    'ul',
    { class: 'orders' },
    ...orders.map((order) =>
      h(
        'li',
        { class: 'card order', 'data-order': order.id },
        h(
          'div',
          { class: 'order-head' },
          h('span', { class: 'order-id' }, `Order ${order.id.length > 12 ? `${order.id.slice(0, 12)}…` : order.id}`),
          h('span', { class: `badge ${order.status.toLowerCase()}` }, order.status),
          order.paymentState
            ? h('span', { class: 'badge payment' }, `payment ${order.paymentState.toLowerCase()}`)
            : null,
          h('span', { class: 'total' }, money(order.total)),
        ),
        h(
          'ul',
          { class: 'items' },
          ...order.items.map((item) =>
            h(
              'li',
              { class: 'item' },
              `${item.quantity} × `,
              item.product
                ? h('a', { href: `#/product/${item.product.id}` }, item.product.name)
                : unavailable('Product'),
            ),
          ),
        ),
      ),
    ),
  );
}

/** Says which parts of the page are missing, when the BFF answered only part of it. */
export function partialNotice(page: Partial): HTMLElement | null {
  if (!page.partial) return null;
  const subgraphs = [
    ...new Set((page.errors ?? []).map((error) => /subgraph (\w+)/.exec(error.message)?.[1]).filter(Boolean)),
  ];
  return h(
    'div',
    { class: 'notice', role: 'status' },
    h('strong', {}, 'Part of this page is unavailable right now. '),
    subgraphs.length
      ? `The ${subgraphs.join(', ')} service${subgraphs.length > 1 ? 's are' : ' is'} not answering; `
      : '',
    'everything else is up to date.',
  );
}
