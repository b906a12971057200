/** The mobile read endpoints: compact payloads, opaque cursors on lists, an ETag on every answer. */
import type { Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { notFound, requireData, validate, type BffServices, type Caller } from '../shared';
import { requireCaller } from './caller';
import { paginate } from './cursor';
import { sendWithEtag } from './etag';

/** What the catalog serves at most in one call; lists are paged over it. */
const CATALOG_MAX = 100;

const pageQuery = z
  .object({
    first: z.coerce.number().int().min(1).max(50).default(10),
    after: z.string().min(1).max(512).optional(),
  })
  .strict();
const idParam = z.object({ id: z.string().min(1).max(64).regex(/^[\w-]+$/, 'letters, digits, _ and - only') });

interface Product {
  id: string;
  name: string;
  price: number;
  inStock: number;
}
interface Order {
  id: string;
  total: number;
  status: string;
  items: Array<{ quantity: number }>;
  payment?: { state: string } | null;
}

export function readRoutes(services: BffServices): Router {
  const { gateway, cache } = services;
  const router = express.Router();
  const ask = async <T>(res: express.Response, query: string, variables: Record<string, unknown> = {}, caller?: Caller) =>
    requireData(await gateway.execute<T>({ query, variables, token: caller?.token, correlationId: res.locals.correlationId as string }));

  router.get('/v1/me', async (_req, res) => {
    const caller = requireCaller(res.locals.caller as Caller | undefined);
    const { value } = await cache.read({ resource: 'me', personal: true, caller }, async () => {
      const email = caller.scopes.includes('users:email') ? 'email' : '';
      const { data, partial } = await ask<{ me: { id: string; name: string; email?: string } | null }>(res, `query MobileMe { me { id name ${email} } }`, {}, caller);
      if (!data.me) throw notFound(`no user "${caller.id}"`);
      return { value: data.me, cacheable: !partial };
    });
    sendWithEtag(_req, res, value);
  });

  router.get('/v1/products', async (req, res) => {
    const { first, after } = validate(pageQuery, req.query, 'query parameters');
    const { value: all } = await cache.read({ resource: 'products', personal: false }, async () => {
      const { data, partial } = await ask<{ products: Product[] }>(res, 'query MobileProducts($first: Int!) { products(first: $first) { id name price inStock } }', { first: CATALOG_MAX });
      return { value: data.products, cacheable: !partial };
    });
    sendWithEtag(req, res, paginate('products', all, first, after));
  });

  router.get('/v1/products/:id', async (req, res) => {
    const { id } = validate(idParam, req.params, 'product id');
    const { value } = await cache.read({ resource: `product/${id}`, personal: false }, async () => {
      const { data, partial } = await ask<{ product: Product | null }>(res, 'query MobileProduct($id: ID!) { product(id: $id) { id name price inStock } }', { id });
      if (!data.product) throw notFound(`no product with id "${id}"`);
      return { value: data.product, cacheable: !partial };
    });
    sendWithEtag(req, res, value);
  });

  router.get('/v1/orders', async (req, res) => {
    const caller = requireCaller(res.locals.caller as Caller | undefined);
    const { first, after } = validate(pageQuery, req.query, 'query parameters');
    const { value: all } = await cache.read({ resource: 'orders', personal: true, caller }, async () => {
      const payment = caller.scopes.includes('payments:read') ? 'payment { state }' : '';
      const { data, partial } = await ask<{ me: { orders: Order[] } | null }>(res, `query MobileOrders { me { orders { id total status items { quantity } ${payment} } } }`, {}, caller);
      const orders = (data.me?.orders ?? []).map((o) => ({
        id: o.id,
        total: o.total,
        status: o.status,
        itemCount: o.items.reduce((sum, item) => sum + item.quantity, 0),
        payment: o.payment?.state ?? null,
      }));
      return { value: orders, cacheable: !partial };
    });
    sendWithEtag(req, res, paginate('orders', all, first, after));
  });

  return router;
}
