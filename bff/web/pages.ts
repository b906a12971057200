/** Page endpoints: one gateway operation per page, shaped for the web app's screens. */
import type { Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { describePartial, HttpError, notFound, requireData, validate, type BffServices, type Caller } from '../shared';
import type { GraphQLErrorBody } from '../shared/gatewayClient';
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

/** A part of a page that failed as a whole (the gateway's answer, as an HttpError), told the client as one error; anything else is a bug and fails the page. */
function failedPart(reason: unknown): GraphQLErrorBody {
  if (!(reason instanceof HttpError)) throw reason;
  return { message: reason.message, extensions: { code: reason.code } };
}

export function pageRoutes(services: BffServices): Router {
  const { gateway, cache } = services;
  const router = express.Router();
  const ask = async <T>(res: express.Response, query: string, variables: Record<string, unknown>, caller?: Caller) => {
    const result = requireData(await gateway.execute<T>({ query, variables, token: caller?.token, correlationId: res.locals.correlationId as string }));
    return result;
  };

  // Two operations, asked at once: a root field that fails nulls the whole `data` of its operation,
  // so the user's part and the catalog's part each come back, or fail, on their own.
  router.get('/api/pages/home', async (_req, res) => {
    const caller = res.locals.caller as Caller | undefined;
    const { value, hit } = await cache.read({ resource: 'pages/home', personal: Boolean(caller), caller }, async () => {
      const featuredPart = ask<{ products: ProductFields[] }>(res, 'query HomeFeatured($featured: Int!) { products(first: $featured) { id name price inStock } }', { featured: FEATURED });
      const userPart = caller ? ask<{ me: UserFields | null }>(res, `query HomeUser { me { ${userSelection(caller)} } }`, {}, caller) : undefined;
      const [featured, user] = await Promise.allSettled([featuredPart, userPart ?? Promise.resolve(undefined)]);
      // Nothing to show at all: answer the error, as a one-operation page would.
      if (featured.status === 'rejected' && (!userPart || user.status === 'rejected')) throw featured.reason;
      const me = user.status === 'fulfilled' ? (user.value?.data.me ?? null) : null;
      const errors = [featured, user].flatMap((part) => (part.status === 'fulfilled' ? (part.value?.errors ?? []) : [failedPart(part.reason)]));
      const page = {
        user: me ? { id: me.id, name: me.name, email: me.email ?? null } : null,
        recentOrders: (me?.orders ?? []).slice(0, RECENT_ORDERS).map(order),
        featured: featured.status === 'fulfilled' ? featured.value.data.products : null,
        ...(errors.length ? { partial: true, errors: describePartial(errors) } : {}),
      };
      return { value: page, cacheable: errors.length === 0 };
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
