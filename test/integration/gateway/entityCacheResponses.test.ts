/**
 * Whole answers through the cache (the response tier, ENTITY_CACHE_RESPONSES=on, the default with
 * the cache on), through a real gateway, real subgraphs and the stack's cache Redis (a key prefix
 * per test): a repeated query is answered before planning, with no subgraph asked; it is dropped
 * with any entity it holds; errors, parts that may not be kept and private parts for an anonymous
 * caller are never kept whole; shadow mode compares instead of serving.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { eventually, postGraphQL } from '../../support/graphql';
import type { InProcessGateway } from '../../support/inProcess';
import { metricValue } from '../../support/metrics';
import { entityCacheGraphPerTest } from '../../support/entityCacheGraph';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const QUERY = 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc inStock price } }';

describe('whole answers through the entity cache', () => {
  const { graph, gateway: started } = entityCacheGraphPerTest();

  const gateway = (env: Record<string, string> = {}, prefix = `test:entity-responses:${randomUUID()}:`): Promise<InProcessGateway> =>
    started({ ENTITY_CACHE: 'on', CACHE_REDIS_URL: REDIS, ENTITY_CACHE_PREFIX: prefix, ...env });
  const metric = (at: InProcessGateway, name: string, labels: Record<string, string>) => metricValue(`${at.server.admin.url}/metrics`, `trellis_entity_cache_${name}`, labels);
  const products = async (at: InProcessGateway, upcs: string[], query = QUERY) => postGraphQL(at.url, query, { variables: { upcs } });
  /** Subgraph calls so far: root fetches of `shelf` and representations asked of `stock`. */
  const calls = () => ({ listed: graph.listed.length, asked: graph.asked.length });

  it('answers a repeated query whole, asking no subgraph, with the Cache-Control of the time it has left', async () => {
    const on = await gateway();
    const first = await products(on, ['1', '2']);
    expect(first.body).toEqual({ data: { products: [{ upc: '1', inStock: 10, price: 1.5 }, { upc: '2', inStock: 20, price: 3 }] } });
    expect(first.headers.get('cache-control')).toBe('max-age=5, public');
    expect(await metric(on, 'misses_total', { type: 'Response' })).toBe(0);
    expect(await metric(on, 'misses_total', { type: 'Product' })).toBe(2);
    const before = calls();
    const second = await products(on, ['1', '2']);
    expect(second.body).toEqual(first.body);
    expect(calls()).toEqual(before);
    expect(await metric(on, 'hits_total', { type: 'Response', tier: 'local' })).toBe(1);
    // The tiers below were not asked: the answer came before planning.
    expect(await metric(on, 'misses_total', { type: 'Product' })).toBe(2);
    await expect(metric(on, 'hits_total', { type: 'Query', tier: 'local' })).rejects.toThrow('no sample');
    await expect(metric(on, 'hits_total', { type: 'Product', tier: 'local' })).rejects.toThrow('no sample');
    expect(second.headers.get('cache-control')).toMatch(/^max-age=[0-5], public$/);
  });

  it('keeps answers apart by variables and by document', async () => {
    const on = await gateway();
    await products(on, ['1']);
    expect((await products(on, ['2'])).body.data).toEqual({ products: [{ upc: '2', inStock: 20, price: 3 }] });
    expect((await products(on, ['1'], 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc inStock } }')).body.data).toEqual({ products: [{ upc: '1', inStock: 10 }] });
    // The last one's root fetch (upcs only) is the first one's, from the root tier; its stock fetch differs.
    expect(graph.asked).toEqual(['1', '2', '1']);
    expect(await metric(on, 'hits_total', { type: 'Response', tier: 'local' })).toBe(0);
    expect((await products(on, ['2'])).body.data).toEqual({ products: [{ upc: '2', inStock: 20, price: 3 }] });
    expect(await metric(on, 'hits_total', { type: 'Response', tier: 'local' })).toBe(1);
  });

  it('drops a whole answer when an entity it holds changes, and serves the new value', async () => {
    const on = await gateway();
    await products(on, ['1', '2']);
    graph.stock.set('2', 19);
    expect((await products(on, ['1', '2'])).body.data).toEqual({ products: [{ upc: '1', inStock: 10, price: 1.5 }, { upc: '2', inStock: 20, price: 3 }] });
    await on.server.entityCache.invalidate({ type: 'Product', key: { upc: '2' }, source: 'stock', at: Date.now() });
    expect((await products(on, ['1', '2'])).body.data).toEqual({ products: [{ upc: '1', inStock: 10, price: 1.5 }, { upc: '2', inStock: 19, price: 3 }] });
    expect(await metric(on, 'hits_total', { type: 'Response', tier: 'local' })).toBe(1);
  });

  it('shares whole answers through the cache Redis, and a change drops them there', async () => {
    const prefix = `test:entity-responses:${randomUUID()}:`;
    const probe = new Redis(REDIS, { maxRetriesPerRequest: 1 });
    /** A gateway on the shared prefix that has seen the query answered once (only such queries are looked up). */
    const warmGateway = async (warmUpc: string) => {
      const started = await gateway({}, prefix);
      await products(started, [warmUpc]);
      return started;
    };
    try {
      const first = await gateway({}, prefix);
      await products(first, ['5']);
      // The root answer and the whole answer, each filed under Product 5.
      await eventually(async () => expect((await probe.keys(`${prefix}root:*`)).length).toBe(2));
      const second = await warmGateway('6');
      const before = calls();
      expect((await products(second, ['5'])).body.data).toEqual({ products: [{ upc: '5', inStock: 0, price: 7.5 }] });
      expect(calls()).toEqual(before);
      expect(await metric(second, 'hits_total', { type: 'Response', tier: 'redis' })).toBe(1);

      // The warm-up's two answers (Product 6) are written after it was answered: waited for, so the count below is the drop's doing.
      await eventually(async () => expect((await probe.keys(`${prefix}root:*`)).length).toBe(4));
      graph.stock.set('5', 4);
      await first.server.entityCache.invalidate({ type: 'Product', key: { upc: '5' }, source: 'stock', at: Date.now() });
      // What Product 6 is filed under stays; both answers holding Product 5 are gone.
      expect(await probe.keys(`${prefix}root:*`)).toHaveLength(2);
      const third = await warmGateway('7');
      expect((await products(third, ['5'])).body.data).toEqual({ products: [{ upc: '5', inStock: 4, price: 7.5 }] });
    } finally {
      probe.disconnect();
    }
  });

  it('answers whole only after the checks: the rate limit counts every whole answer and refuses past it', async () => {
    // In process, cache and limit alike: with CACHE_REDIS_URL the limit would count on the stack's Redis, across runs.
    const limited = await started({ ENTITY_CACHE: 'on', GATEWAY_RATE_LIMIT: '3' });
    for (let left = 2; left >= 0; left--) {
      const answered = await products(limited, ['1']);
      expect(answered.status).toBe(200);
      expect(answered.headers.get('ratelimit')).toMatch(new RegExp(`^"gateway";r=${left};t=\\d+$`));
    }
    expect(await metric(limited, 'hits_total', { type: 'Response', tier: 'local' })).toBe(2);
    const refused = await products(limited, ['1']);
    expect(refused.status).toBe(429);
    expect(refused.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) })]);
    expect(await metric(limited, 'hits_total', { type: 'Response', tier: 'local' })).toBe(2);
  });

  it('never keeps whole an answer with an error, a part that may not be kept, or a private part for an anonymous caller', async () => {
    const on = await gateway();
    graph.stock.set('2', null);
    const erred = await products(on, ['2']);
    expect(erred.body.errors).toEqual([expect.objectContaining({ path: ['products', 0, 'inStock'] })]);
    const labelled = 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc label inStock } }';
    const wished = 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc wished } }';
    // Each twice, beside a query that is kept (so a second round would be served whole if any were).
    for (let round = 0; round < 2; round += 1) {
      expect((await products(on, ['2'])).body.errors).toHaveLength(1);
      expect((await products(on, ['3'], labelled)).headers.get('cache-control')).toBe('no-store');
      expect((await products(on, ['3'], wished)).headers.get('cache-control')).toMatch(/^max-age=\d+, private$/);
      expect((await products(on, ['1'])).body.errors).toBeUndefined();
    }
    expect(graph.asked.filter((upc) => upc === '2')).toHaveLength(3);
    expect(await metric(on, 'hits_total', { type: 'Response', tier: 'local' })).toBe(1);
  });

  it('in shadow mode serves fresh data and counts each field the whole answer had wrong', async () => {
    const shadow = await gateway({ ENTITY_CACHE: 'shadow' });
    await products(shadow, ['1']);
    graph.stock.set('1', 3);
    const before = calls();
    expect((await products(shadow, ['1'])).body.data).toEqual({ products: [{ upc: '1', inStock: 3, price: 1.5 }] });
    expect(calls()).toEqual({ listed: before.listed + 1, asked: before.asked + 1 });
    expect(await metric(shadow, 'shadow_comparisons_total', { type: 'Response' })).toBe(1);
    expect(await metric(shadow, 'shadow_differences_total', { type: 'Response', field: 'products' })).toBe(1);
  });

  it('ENTITY_CACHE_RESPONSES=off: the root answer and entities come from the cache, the query is planned and run', async () => {
    const on = await gateway({ ENTITY_CACHE_RESPONSES: 'off' });
    await products(on, ['1']);
    const before = calls();
    await products(on, ['1']);
    expect(calls()).toEqual(before);
    expect(await metric(on, 'hits_total', { type: 'Query', tier: 'local' })).toBe(1);
    await expect(metric(on, 'hits_total', { type: 'Response', tier: 'local' })).rejects.toThrow();
  });
});
