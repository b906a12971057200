/** The shop's pages: home, a product (with the order form), and the signed-in user's orders. */
import { api, ApiError, type Session } from './api';
import { h, money } from './dom';
import { orderList, partialNotice, productCard, unavailable } from './parts';

export async function homePage(session: Session): Promise<HTMLElement> {
  const page = await api.home();
  const featured = page.featured
    ? h('ul', { class: 'grid' }, ...page.featured.map(productCard))
    : h('p', {}, unavailable('Products'));
  if (!session.user || !page.user) {
    return h(
      'div',
      {},
      partialNotice(page),
      h(
        'section',
        { class: 'hero' },
        h('h1', {}, 'The Trellis store'),
        h(
          'p',
          {},
          'Five subgraphs, one gateway, and a saga for every order. Sign in to see your orders and place one.',
        ),
        h('a', { class: 'button', href: '#/signin' }, 'Sign in'),
      ),
      h('section', { 'aria-labelledby': 'featured' }, h('h2', { id: 'featured' }, 'Featured'), featured),
    );
  }
  return h(
    'div',
    {},
    partialNotice(page),
    h(
      'section',
      { class: 'hero user', 'aria-labelledby': 'welcome' },
      h('h1', { id: 'welcome' }, `Welcome back, ${page.user.name}`),
      page.user.email ? h('p', { class: 'muted', 'data-email': '' }, page.user.email) : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'recent' },
      h('h2', { id: 'recent' }, 'Your recent orders'),
      orderList(page.recentOrders),
    ),
    h('section', { 'aria-labelledby': 'featured' }, h('h2', { id: 'featured' }, 'Featured'), featured),
  );
}

export async function productPage(
  id: string,
  session: Session,
  onPlaced: (sagaId: string) => void,
): Promise<HTMLElement> {
  const page = await api.product(id);
  const { product } = page;
  const status = h('p', { class: 'form-status', role: 'alert' });
  const quantity = h('input', {
    id: 'quantity',
    name: 'quantity',
    type: 'number',
    min: 1,
    max: Math.max(1, Math.min(product.inStock, 100)),
    value: 1,
    required: true,
  }) as HTMLInputElement;
  const method = h(
    'select',
    { id: 'payment', name: 'payment' },
    h('option', { value: 'card-ok' }, 'Card ending 4242'),
    h('option', { value: 'card-declined' }, 'Card ending 0002 (will be declined)'),
  ) as HTMLSelectElement;
  const submit = h('button', { type: 'submit', class: 'button' }, 'Place order') as HTMLButtonElement;
  const form = h(
    'form',
    {
      class: 'order-form',
      'aria-label': 'Place an order',
      onsubmit: (event: Event) => {
        event.preventDefault();
        submit.disabled = true;
        status.textContent = 'Placing your order…';
        api.placeOrder(product.id, Number(quantity.value), method.value).then(
          (started) => onPlaced(started.sagaId),
          (error: unknown) => {
            submit.disabled = false;
            status.textContent =
              error instanceof ApiError ? error.message : 'The order could not be placed; try again.';
          },
        );
      },
    },
    h('label', { for: 'quantity' }, 'Quantity'),
    quantity,
    h('label', { for: 'payment' }, 'Pay with'),
    method,
    submit,
    status,
  );
  return h(
    'div',
    {},
    partialNotice(page),
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Home'), ' / ', product.name),
    h(
      'section',
      { class: 'product-detail', 'aria-labelledby': 'product-name' },
      h('div', { class: 'product-art large', 'aria-hidden': 'true' }, product.name.slice(0, 1)),
      h(
        'div',
        {},
        h('h1', { id: 'product-name' }, product.name),
        h('p', { class: 'price large' }, money(product.price)),
        h(
          'p',
          { class: product.available ? 'stock' : 'stock out' },
          product.available ? `${product.inStock} in stock` : 'Out of stock',
        ),
        session.user
          ? product.available
            ? form
            : null
          : h('p', {}, h('a', { href: '#/signin' }, 'Sign in'), ' to order.'),
      ),
    ),
    page.related.length
      ? h(
          'section',
          { 'aria-labelledby': 'related' },
          h('h2', { id: 'related' }, 'You may also like'),
          h('ul', { class: 'grid' }, ...page.related.map(productCard)),
        )
      : null,
  );
}

export async function ordersPage(): Promise<HTMLElement> {
  const page = await api.orders();
  return h(
    'div',
    {},
    partialNotice(page),
    h('h1', {}, 'Your orders'),
    h('p', { class: 'muted' }, `${page.count} order${page.count === 1 ? '' : 's'}`),
    orderList(page.orders),
  );
}
