/** The shop's pages: home, a product (productPage.ts), and the signed-in user's orders. */
import { api, type Session } from './api';
import { h } from './dom';
import { orderList, partialNotice, productCard, unavailable } from './parts';

export { productPage } from './productPage';

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
