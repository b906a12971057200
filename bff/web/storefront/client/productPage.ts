/**
 * The product page: name, price and recommendations as soon as the gateway has them; the stock
 * (with the order form) deferred (`@defer`), shown when its part arrives.
 */
import { api, ApiError, type Product, type Session } from './api';
import { deferredQuery } from './deferred';
import { h, money, replace } from './dom';
import { partialNotice, productCard, unavailable } from './parts';

/** Related products asked for: one more than shown, as the page leaves the product itself out. */
const RELATED = 4;

/**
 * The product page's one query: the product and the recommendations first; its stock deferred (the
 * gateway asks the catalog for it again, by key, in its own fetch), so the page shows the product
 * while the stock is on its way.
 */
const PRODUCT_PAGE = `query ProductPage($id: ID!, $related: Int!) {
  product(id: $id) { id name price ... @defer(label: "stock") { inStock } }
  products(first: $related) { id name price inStock }
}`;

export interface OpenPage {
  element: HTMLElement;
  /** Stops reading what the page still waits for (the user left it). */
  close(): void;
}

interface FirstPart {
  product: Omit<Product, 'inStock'> | null;
  products: Product[] | null;
}

export async function productPage(id: string, session: Session, onPlaced: (sagaId: string) => void): Promise<OpenPage> {
  const reading = new AbortController();
  const { first, later } = await deferredQuery<FirstPart>(PRODUCT_PAGE, { id, related: RELATED + 1 }, reading.signal);
  const product = first.data?.product;
  if (!product) {
    const [failed] = first.errors;
    if (failed) throw new ApiError(503, failed.code ?? 'UNAVAILABLE', failed.message);
    throw new ApiError(404, 'NOT_FOUND', `no product with id "${id}"`);
  }
  const errors = [...first.errors];
  const notice = h('div', {}, partialNotice({ partial: errors.length > 0, errors }));
  const stock = h(
    'div',
    { class: 'stock-slot' },
    h('p', { class: 'stock pending', 'data-pending': '' }, 'Checking stock…'),
  );
  const related = (first.data?.products ?? []).filter((p) => p.id !== id).slice(0, RELATED);
  const element = h(
    'div',
    {},
    notice,
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
        stock,
      ),
    ),
    related.length
      ? h(
          'section',
          { 'aria-labelledby': 'related' },
          h('h2', { id: 'related' }, 'You may also like'),
          h('ul', { class: 'grid' }, ...related.map(productCard)),
        )
      : null,
  );
  const showStock = (inStock: unknown) =>
    replace(
      stock,
      ...(typeof inStock === 'number'
        ? stockAndOrder({ ...product, inStock }, session, onPlaced)
        : [unavailable('Stock')]),
    );
  void (async () => {
    let shown = false;
    try {
      for await (const part of later) {
        errors.push(...part.errors);
        if (part.label === 'stock') {
          shown = true;
          showStock(part.data?.inStock);
        }
        replace(notice, partialNotice({ partial: errors.length > 0, errors }));
      }
    } catch (error) {
      if (reading.signal.aborted) return;
      errors.push({ message: error instanceof Error ? error.message : String(error) });
      replace(notice, partialNotice({ partial: true, errors }));
    }
    // A stock that never came (the answer was cut short) is shown as unavailable, not as loading for ever.
    if (!shown) showStock(undefined);
  })();
  return { element, close: () => reading.abort() };
}

/** The stock line and, for a signed-in user and a product in stock, the order form. */
function stockAndOrder(
  product: Product,
  session: Session,
  onPlaced: (sagaId: string) => void,
): Array<HTMLElement | null> {
  const available = product.inStock > 0;
  return [
    h('p', { class: available ? 'stock' : 'stock out' }, available ? `${product.inStock} in stock` : 'Out of stock'),
    session.user
      ? available
        ? orderForm(product, onPlaced)
        : null
      : h('p', {}, h('a', { href: '#/signin' }, 'Sign in'), ' to order.'),
  ];
}

function orderForm(product: Product, onPlaced: (sagaId: string) => void): HTMLElement {
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
  return h(
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
}
