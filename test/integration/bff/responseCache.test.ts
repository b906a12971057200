/**
 * "Errors are never cached": a BFF that got an error or a partial answer from the gateway asks the
 * gateway again on the next read instead of serving the failure for BFF_CACHE_TTL_MS; a clean answer
 * is then cached. Web and mobile BFFs, against a scripted gateway.
 */
import { loadConfig } from '@trellis/kit';
import { createLogger } from '@trellis/kit';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { createWebBff } from '../../../bff/web/app';
import { createMobileBff } from '../../../bff/mobile/app';
import type { BffServer } from '../../../bff/shared';
import { getJson } from '../../support/bff';
import { startScriptedGateway, type ScriptedGateway } from '../../support/scriptedGateway';

const products = [1, 2, 3, 4].map((n) => ({ id: `p${n}`, name: `P${n}`, price: n, inStock: 1 }));
const unavailable = { body: { data: null, errors: [{ message: 'catalog is unavailable', extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] } };

describe('BFF response cache never keeps an error', () => {
  let gateway: ScriptedGateway;
  const bffs: BffServer[] = [];
  let web: string;
  let mobile: string;

  beforeAll(async () => {
    gateway = await startScriptedGateway();
    // A long TTL: anything cached by mistake would still be served on the next read.
    const config = loadConfig({ GATEWAY_URL: gateway.graphqlUrl, BFF_CACHE_TTL_MS: '600000', LOG_LEVEL: 'silent' });
    const logger = createLogger({ service: 'bff', level: 'silent' });
    const state = new InMemoryStateStore();
    bffs.push(createWebBff({ config, logger, state }), createMobileBff({ config, logger, state }));
    [web, mobile] = await Promise.all(bffs.map((bff) => bff.start(0)));
  });
  afterAll(async () => {
    for (const bff of bffs) await bff.stop();
    await gateway.close();
  });

  it('web: a gateway error, then a partial page, are each asked again; the clean page is cached', async () => {
    gateway.answer(
      unavailable,
      { body: { data: { products: products.slice(0, 2) }, errors: [{ message: 'stock failed', path: ['products', 1, 'inStock'], extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] } },
      { body: { data: { products } } },
    );
    const first = await getJson(`${web}/api/pages/home`);
    expect([first.status, first.body.error.code]).toEqual([503, 'SUBGRAPH_UNAVAILABLE']);
    const partial = await getJson(`${web}/api/pages/home`);
    expect([partial.status, partial.headers.get('x-cache'), partial.body.partial]).toEqual([200, 'MISS', true]);
    const clean = await getJson(`${web}/api/pages/home`);
    expect([clean.status, clean.headers.get('x-cache'), clean.body.partial, clean.body.featured]).toEqual([200, 'MISS', undefined, products]);
    const cached = await getJson(`${web}/api/pages/home`);
    expect([cached.headers.get('x-cache'), cached.body.featured]).toEqual(['HIT', products]);
    expect(gateway.requests).toHaveLength(3);
  });

  it('mobile: a not-found product, then a gateway error, are each asked again; the found product is cached', async () => {
    gateway.requests.length = 0;
    gateway.answer({ body: { data: { product: null } } }, unavailable, { body: { data: { product: products[0] } } });
    expect((await getJson(`${mobile}/v1/products/p1`)).status).toBe(404);
    expect((await getJson(`${mobile}/v1/products/p1`)).status).toBe(503);
    const found = await getJson(`${mobile}/v1/products/p1`);
    expect([found.status, found.body]).toEqual([200, products[0]]);
    expect((await getJson(`${mobile}/v1/products/p1`)).body).toEqual(products[0]);
    expect(gateway.requests).toHaveLength(3);
  });
});
