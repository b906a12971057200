/**
 * The entity cache through a real gateway, real subgraphs and the real cache Redis (the stack's,
 * a key prefix per test): entities served from it, only misses asked, errors never kept, a
 * change dropping an entity, Cache-Control from what was served, shadow mode counting differences.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { eventually, postGraphQL } from '../../support/graphql';
import type { InProcessGateway } from '../../support/inProcess';
import { metricValue } from '../../support/metrics';
import { entityCacheGraphPerTest, servedThroughRedis } from '../../support/entityCacheGraph';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const QUERY = 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc inStock } }';

describe('the entity cache through the gateway', () => {
  const { graph, gateway: started } = entityCacheGraphPerTest();

  // The tiers below whole answers (entityCacheResponses.test.ts has those): each request is planned and fetched through them.
  const gateway = (mode: 'on' | 'shadow' | 'off', prefix = `test:entity:${randomUUID()}:`): Promise<InProcessGateway> =>
    started({ ENTITY_CACHE: mode, ENTITY_CACHE_RESPONSES: 'off', CACHE_REDIS_URL: REDIS, ENTITY_CACHE_PREFIX: prefix });
  const metric = (at: InProcessGateway, name: string, labels: Record<string, string>) => metricValue(`${at.server.admin.url}/metrics`, `trellis_entity_cache_${name}`, labels);
  const products = async (at: InProcessGateway, upcs: string[]) => postGraphQL(at.url, QUERY, { variables: { upcs } });

  it('serves entities it holds without asking their subgraph, and asks only for the ones it lacks, in order', async () => {
    const on = await gateway('on');
    expect((await products(on, ['1', '2'])).body).toEqual({ data: { products: [{ upc: '1', inStock: 10 }, { upc: '2', inStock: 20 }] } });
    expect(graph.asked).toEqual(['1', '2']);
    const partly = await products(on, ['3', '1', '2']);
    expect(partly.body).toEqual({ data: { products: [{ upc: '3', inStock: 30 }, { upc: '1', inStock: 10 }, { upc: '2', inStock: 20 }] } });
    expect(graph.asked).toEqual(['1', '2', '3']);
    expect(await metric(on, 'hits_total', { type: 'Product', tier: 'local' })).toBe(2);
    expect(await metric(on, 'misses_total', { type: 'Product' })).toBe(3);
  });

  it('answers Cache-Control from what was served: the smallest maxAge, private if any part was, no-store if any part may not be kept', async () => {
    const on = await gateway('on');
    const ask = async (fields: string) => (await postGraphQL(on.url, `query ($upcs: [ID!]!) { products(upcs: $upcs) { ${fields} } }`, { variables: { upcs: ['1'] } })).headers.get('cache-control');
    /** The header's maxAge and scope; a cached part counts the time it has left, so a few seconds under what was declared. */
    const policy = async (fields: string) => {
      const header = (await ask(fields)) ?? '';
      const match = /^max-age=(\d+), (public|private)$/.exec(header);
      if (!match) return header;
      return { scope: match[2], maxAge: Number(match[1]) > 20 && Number(match[1]) <= 30 ? 'about 30' : Number(match[1]) };
    };
    expect(await ask('upc inStock')).toBe('max-age=30, public');
    // The root answer from the cache this time: the time it has left.
    expect(await policy('upc inStock')).toEqual({ scope: 'public', maxAge: 'about 30' });
    expect(await policy('upc price')).toEqual({ scope: 'public', maxAge: 5 });
    expect(await policy('upc wished')).toEqual({ scope: 'private', maxAge: 'about 30' });
    expect(await ask('upc label inStock')).toBe('no-store');
  });

  it('never keeps an error: an answer carrying one is asked for again (Apollo Server calls it no-store)', async () => {
    graph.stock.set('2', null);
    const on = await gateway('on');
    const failed = await products(on, ['1', '2']);
    expect(failed.body.errors).toEqual([expect.objectContaining({ path: ['products', 1, 'inStock'] })]);
    graph.stock.set('2', 21);
    expect((await products(on, ['1', '2'])).body).toEqual({ data: { products: [{ upc: '1', inStock: 10 }, { upc: '2', inStock: 21 }] } });
    expect(graph.asked).toEqual(['1', '2', '1', '2']);
    expect((await products(on, ['1', '2'])).body.data).toEqual({ products: [{ upc: '1', inStock: 10 }, { upc: '2', inStock: 21 }] });
    expect(graph.asked).toEqual(['1', '2', '1', '2']);
  });

  it('drops an entity on an announced change, and serves the new value', async () => {
    const on = await gateway('on');
    await products(on, ['1', '2']);
    graph.stock.set('1', 9);
    expect((await products(on, ['1'])).body.data).toEqual({ products: [{ upc: '1', inStock: 10 }] });
    await on.server.entityCache.invalidate({ type: 'Product', key: { upc: '1' }, source: 'stock', at: Date.now() });
    expect((await products(on, ['1', '2'])).body.data).toEqual({ products: [{ upc: '1', inStock: 9 }, { upc: '2', inStock: 20 }] });
    expect(graph.asked).toEqual(['1', '2', '1']);
    expect(await metric(on, 'invalidations_total', { type: 'Product' })).toBe(1);
  });

  it('shares entries between gateways through the cache Redis, and a change drops them there too', async () => {
    const prefix = `test:entity:${randomUUID()}:`;
    const probe = new Redis(REDIS, { maxRetriesPerRequest: 1 });
    try {
      const first = await gateway('on', prefix);
      const second = await gateway('on', prefix);
      await servedThroughRedis(first, second, probe, prefix, 'shared');
      const asked = graph.asked.length;
      graph.stock.set('shared-0', 7);
      await first.server.entityCache.invalidate({ type: 'Product', key: { upc: 'shared-0' }, source: 'stock', at: Date.now() });
      expect(await probe.exists(`${prefix}Product:{"upc":"shared-0"}`)).toBe(0);
      const third = await gateway('on', prefix);
      expect((await products(third, ['shared-0'])).body.data).toEqual({ products: [{ upc: 'shared-0', inStock: 7 }] });
      expect(graph.asked.length).toBe(asked + 1);
    } finally {
      probe.disconnect();
    }
  });

  it('keeps a root answer its subgraph declares a maxAge for, and drops it with any entity it holds', async () => {
    const on = await gateway('on');
    await products(on, ['1', '2']);
    await products(on, ['1', '2']);
    expect(graph.listed).toEqual([['1', '2']]);
    expect(await metric(on, 'hits_total', { type: 'Query', tier: 'local' })).toBe(1);
    await on.server.entityCache.invalidate({ type: 'Product', key: { upc: '2' }, source: 'stock', at: Date.now() });
    await products(on, ['1', '2']);
    expect(graph.listed).toEqual([['1', '2'], ['1', '2']]);
    // One field the subgraph says not to keep: the root answer is asked for every time.
    const labelled = 'query ($upcs: [ID!]!) { products(upcs: $upcs) { upc label } }';
    await postGraphQL(on.url, labelled, { variables: { upcs: ['3'] } });
    await postGraphQL(on.url, labelled, { variables: { upcs: ['3'] } });
    expect(graph.listed.slice(2)).toEqual([['3'], ['3']]);
  });

  it('shares root answers through the cache Redis, and drops them there with the entity they hold', async () => {
    const prefix = `test:entity:${randomUUID()}:`;
    const probe = new Redis(REDIS, { maxRetriesPerRequest: 1 });
    /** A gateway on the shared prefix that has seen the query once (it looks up only queries it saw answered with a maxAge). */
    const warmGateway = async (warmUpc: string) => {
      const started = await gateway('on', prefix);
      await products(started, [warmUpc]);
      return started;
    };
    const listedFor = (upc: string) => graph.listed.filter((upcs) => upcs.join() === upc).length;
    try {
      const first = await gateway('on', prefix);
      await products(first, ['5']);
      await eventually(async () => expect(await probe.exists(`${prefix}Product:{"upc":"5"}`)).toBe(1));
      await eventually(async () => expect((await probe.keys(`${prefix}root:*`)).length).toBe(1));
      const second = await warmGateway('6');
      expect((await products(second, ['5'])).body.data).toEqual({ products: [{ upc: '5', inStock: 0 }] });
      expect(listedFor('5')).toBe(1);
      expect(await metric(second, 'hits_total', { type: 'Query', tier: 'redis' })).toBe(1);

      await first.server.entityCache.invalidate({ type: 'Product', key: { upc: '5' }, source: 'stock', at: Date.now() });
      expect(await probe.keys(`${prefix}root:*`)).toHaveLength(1);
      expect(await probe.exists(`${prefix}Product:{"upc":"5"}`)).toBe(0);
      const third = await warmGateway('7');
      await products(third, ['5']);
      expect(listedFor('5')).toBe(2);
    } finally {
      probe.disconnect();
    }
  });

  it('in shadow mode serves fresh data and counts each field the cache had wrong', async () => {
    const shadow = await gateway('shadow');
    await products(shadow, ['1', '2']);
    graph.stock.set('1', 3);
    expect((await products(shadow, ['1', '2'])).body.data).toEqual({ products: [{ upc: '1', inStock: 3 }, { upc: '2', inStock: 20 }] });
    expect(graph.asked).toEqual(['1', '2', '1', '2']);
    expect(await metric(shadow, 'shadow_comparisons_total', { type: 'Product' })).toBe(2);
    expect(await metric(shadow, 'shadow_differences_total', { type: 'Product', field: 'inStock' })).toBe(1);
  });

  it('off: every entity is asked of its subgraph, and no Cache-Control is computed', async () => {
    const off = await gateway('off');
    await products(off, ['1']);
    const again = await products(off, ['1']);
    expect(graph.asked).toEqual(['1', '1']);
    expect(again.headers.get('cache-control')).toBe('no-store');
  });
});
