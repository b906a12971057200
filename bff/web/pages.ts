/** Page endpoints: one gateway operation per page, shaped for the web app's screens. */
import type { Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { describePartial, notFound, requireData, validate, type BffServices, type Caller } from '../shared';
import { requireCaller } from './session';

const FEATURED = 4;
const RECENT_ORDERS = 5;

interface ProductFields {
  id: string;
  name: string;
  price: number;
  inStock: number;
}
interface OrderFields {
  id: string;
  total: number;
  status: string;
  items: Array<{ quantity: number; product: ProductFields | null }>;
  payment?: { state: string } | null;
}
interface UserFields {
  id: string;
  name: string;
  email?: string;
  orders: OrderFields[];
}

/** Fields a token without the scope may not read are left out of the document instead of failing it. */
function orderSelection(caller: Caller): string {
  const payment = caller.scopes.includes('payments:read') ? 'payment { state }' : '';
  return `orders { id total status items { quantity product { id name price inStock } } ${payment} }`;
}
function userSelection(caller: Caller): string {
  return `id name ${caller.scopes.includes('users:email') ? 'email' : ''} ${orderSelection(caller)}`;
}

const order = (o: OrderFields) => ({
  id: o.id,
  total: o.total,
  status: o.status,
  paymentState: o.payment?.state ?? null,
  items: o.items.map((item) => ({ quantity: item.quantity, product: item.product })),
});

export function pageRoutes(services: BffServices): Router {
  const { gateway, cache } = services;
  const router = express.Router();
  const ask = async <T>(res: express.Response, query: string, variables: Record<string, unknown>, caller?: Caller) => {
    const result = requireData(await gateway.execute<T>({ query, variables, token: caller?.token, correlationId: res.locals.correlationId as string }));
    return result;
  };

  router.get('/api/pages/home', async (_req, res) => {
    const caller = res.locals.caller as Caller | undefined;
    const { value, hit } = await cache.read({ resource: 'pages/home', personal: Boolean(caller), caller }, async () => {
      const query = caller
        ? `query HomePage($featured: Int!) { me { ${userSelection(caller)} } products(first: $featured) { id name price inStock } }`
        : `query HomePage($featured: Int!) { products(first: $featured) { id name price inStock } }`;
      const { data, partial, errors } = await ask<{ me?: UserFields | null; products: ProductFields[] }>(res, query, { featured: FEATURED }, caller);
      const me = data.me ?? null;
      const page = {
        user: me ? { id: me.id, name: me.name, email: me.email ?? null } : null,
        recentOrders: (me?.orders ?? []).slice(0, RECENT_ORDERS).map(order),
        featured: data.products,
        ...(partial ? { partial: true, errors: describePartial(errors) } : {}),
      };
      return { value: page, cacheable: !partial };
    });
    res.setHeader('x-cache', hit ? 'HIT' : 'MISS').json(value);
  });

  router.get('/api/pages/product/:id', async (req, res) => {
    const { id } = validate(z.object({ id: z.string().min(1).max(64).regex(/^[\w-]+$/, 'letters, digits, _ and - only') }), req.params, 'product id');
    const { value, hit } = await cache.read({ resource: `pages/product/${id}`, personal: false }, async () => {
      const { data, partial, errors } = await ask<{ product: ProductFields | null; products: ProductFields[] }>(
        res,
        'query ProductPage($id: ID!, $related: Int!) { product(id: $id) { id name price inStock } products(first: $related) { id name price inStock } }',
        { id, related: FEATURED + 1 },
      );
      if (!data.product) throw notFound(`no product with id "${id}"`);
      const page = {
        product: { ...data.product, available: data.product.inStock > 0 },
        related: data.products.filter((p) => p.id !== id).slice(0, FEATURED),
        ...(partial ? { partial: true, errors: describePartial(errors) } : {}),
      };
      return { value: page, cacheable: !partial };
    });
    res.setHeader('x-cache', hit ? 'HIT' : 'MISS').json(value);
  });

  router.get('/api/pages/orders', async (_req, res) => {
    const caller = requireCaller(res.locals.caller as Caller | undefined);
    const { value, hit } = await cache.read({ resource: 'pages/orders', personal: true, caller }, async () => {
      const { data, partial, errors } = await ask<{ me: UserFields | null }>(res, `query OrdersPage { me { id ${orderSelection(caller)} } }`, {}, caller);
      const orders = (data.me?.orders ?? []).map(order);
      const page = { orders, count: orders.length, ...(partial ? { partial: true, errors: describePartial(errors) } : {}) };
      return { value: page, cacheable: !partial };
    });
    res.setHeader('x-cache', hit ? 'HIT' : 'MISS').json(value);
  });

  return router;
}
