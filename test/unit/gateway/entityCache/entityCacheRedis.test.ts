/**
 * The entity cache's two tiers together, two gateways on one cache Redis of their own (a real
 * server on a free port): what one gateway kept the other serves from Redis (then from its own
 * memory), a change dropped by one is gone from Redis for all, private entries stay per caller
 * there too, and a Redis that hangs makes lookups misses, never errors.
 */
import { buildSchema } from 'graphql';
import { Registry } from 'prom-client';
import { createLogger } from '@trellis/kit';
import { EntityCache, type CacheCaller, type FetchedAnswer } from '../../../../gateway/entityCache';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';
import { ENTITIES, alice, bob, privateCacheRedis, product } from '../../../support/entityCacheHarness';
import { eventually } from '../../../support/graphql';

jest.setTimeout(30_000);

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';
const SUPERGRAPH = (() => {
  const composed = composeSupergraph([
    { name: 'shelf', url: 'http://shelf', sdl: `${LINK} type Query { products: [Product!]! } type Product @key(fields: "upc") { upc: ID! }` },
    { name: 'stock', url: 'http://stock', sdl: `${LINK} type Product @key(fields: "upc") { upc: ID! inStock: Int }` },
  ]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return composed.supergraphSdl;
})();
const API_SCHEMA = buildSchema('type Query { products: [Product!]! } type Product { upc: ID! inStock: Int }');
const PRODUCTS = '{products{upc inStock}}';

describe('EntityCache on a cache Redis', () => {
  let probes = 0;
  const cacheRedis = privateCacheRedis();
  let now: number;
  const caches: EntityCache[] = [];

  /** One gateway: its cache, what its subgraphs were asked, and its metrics. */
  const gateway = async (prefix = 'ec:') => {
    const registry = new Registry();
    const cache = new EntityCache({
      settings: { mode: 'on', localMax: 100, maxTtlMs: 3_600_000, redisTimeoutMs: 1_000, prefix, responses: true, redisUrl: cacheRedis.server.url },
      registry,
      logger: createLogger({ service: 'test', level: 'silent' }),
      now: () => now,
    });
    caches.push(cache);
    cache.useSupergraph(SUPERGRAPH, API_SCHEMA);
    const asked: unknown[] = [];
    let hint: FetchedAnswer['hint'] = { maxAge: 60, scope: 'PUBLIC' };
    const send = async (variables: Record<string, unknown>): Promise<FetchedAnswer> => {
      asked.push(variables);
      const representations = variables.representations as Array<{ upc: string }> | undefined;
      const data = representations ? { _entities: representations.map(({ upc }) => ({ inStock: Number(upc) })) } : { products: [{ upc: '1', inStock: 1 }] };
      return { response: { data }, hint };
    };
    const sample = async (name: string, labels: Record<string, string>) =>
      (await registry.getSingleMetric(`trellis_entity_cache_${name}`)?.get())?.values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label))?.value;
    const entities = (upcs: string[], caller: CacheCaller = null) => cache.fetch({ subgraph: 'stock', query: ENTITIES, variables: { representations: upcs.map(product) } }, caller, send);
    const products = () => cache.fetch({ subgraph: 'shelf', query: PRODUCTS, variables: {} }, null, send);
    // Connected once what it keeps reaches Redis (nothing is queued while it connects): a probe entity per attempt.
    await eventually(async () => {
      const upc = `probe${(probes += 1)}`; // never one another gateway wrote
      await cache.fetch({ subgraph: 'stock', query: ENTITIES, variables: { representations: [product(upc)] } }, null, async () => ({ response: { data: { _entities: [{ inStock: 0 }] } }, hint: { maxAge: 60, scope: 'PUBLIC' } }));
      await eventually(async () => expect(await cacheRedis.raw.exists(`${prefix}Product:{"upc":"${upc}"}`)).toBe(1), 200, 20);
    });
    return { cache, asked, entities, products, sample, answer: (next: FetchedAnswer['hint']) => (hint = next) };
  };

  beforeEach(() => {
    now = 1_000_000;
  });
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.stop();
  });

  /** Waits until Redis holds what a gateway wrote (writes go out without being awaited). */
  const inRedis = async (key: string, fields = 1) => eventually(async () => expect(await cacheRedis.raw.hlen(key)).toBe(fields));

  it('serves what another gateway kept from Redis, then from its own memory, with the time it has left', async () => {
    const one = await gateway('shared1:');
    const two = await gateway('shared1:');
    await one.entities(['1', '2']);
    await inRedis('shared1:Product:{"upc":"2"}');
    now += 10_000;
    expect(await two.entities(['1', '2'])).toEqual({ response: { data: { _entities: [{ inStock: 1 }, { inStock: 2 }] } }, hint: { maxAge: 50, scope: 'PUBLIC' }, hits: 2, fetched: 0, entities: ['Product:{"upc":"1"}', 'Product:{"upc":"2"}'] });
    expect(await two.sample('hits_total', { type: 'Product', tier: 'redis' })).toBe(2);
    expect(await two.entities(['1', '2'])).toMatchObject({ hits: 2, fetched: 0 });
    expect(await two.sample('hits_total', { type: 'Product', tier: 'local' })).toBe(2);
    expect(await two.sample('hits_total', { type: 'Product', tier: 'redis' })).toBe(2);
    expect(two.asked).toEqual([]);
  });

  it('keeps a private entry in Redis under its caller only', async () => {
    const one = await gateway('private:');
    const two = await gateway('private:');
    one.answer({ maxAge: 60, scope: 'PRIVATE' });
    two.answer({ maxAge: 60, scope: 'PRIVATE' });
    await one.entities(['1'], alice);
    // The second gateway learns the query is private from its own answer, for bob: not alice's entry.
    await two.entities(['1'], bob);
    await inRedis('private:Product:{"upc":"1"}', 2);
    expect(two.asked).toHaveLength(1);
    expect(await two.entities(['1'], alice)).toMatchObject({ hits: 1, hint: { scope: 'PRIVATE' } });
    expect(await two.sample('hits_total', { type: 'Product', tier: 'redis' })).toBe(1);
    expect(two.asked).toHaveLength(1);
  });

  it('drops a changed entity from Redis for every gateway, with the root answers holding it', async () => {
    const one = await gateway('drop:');
    await one.entities(['1', '2']);
    await one.products();
    await inRedis('drop:Product:{"upc":"1"}', 2);
    await one.cache.invalidate({ type: 'Product', key: { upc: '1' }, source: 'stock', at: 0 });
    expect((await cacheRedis.raw.keys('drop:*')).filter((key) => !key.includes('probe')).sort()).toEqual(['drop:Product:{"upc":"2"}']);
    const two = await gateway('drop:');
    expect(await two.entities(['1', '2'])).toMatchObject({ hits: 1, fetched: 1 });
    expect(two.asked).toEqual([{ representations: [product('1')] }]);
  });

  it('serves a root answer another gateway kept, then from memory', async () => {
    const one = await gateway('roots:');
    const two = await gateway('roots:');
    // Declared cacheable to the second gateway by its own fetch; what it kept is then dropped by a change.
    await two.products();
    await two.cache.invalidate({ type: 'Product', key: { upc: '1' }, source: 'stock', at: 0 });
    now += 1;
    await one.products();
    await inRedis('roots:Product:{"upc":"1"}');
    now += 1_000;
    expect(await two.products()).toEqual({ response: { data: { products: [{ upc: '1', inStock: 1 }] } }, hint: { maxAge: 59, scope: 'PUBLIC' }, hits: 1, fetched: 0, entities: ['Product:{"upc":"1"}'] });
    expect(await two.sample('hits_total', { type: 'Query', tier: 'redis' })).toBe(1);
    // Kept in memory since, filed under its entity: this gateway's drop takes it.
    expect(await two.products()).toMatchObject({ hits: 1 });
    expect(await two.sample('hits_total', { type: 'Query', tier: 'local' })).toBe(1);
    await two.cache.invalidate({ type: 'Product', key: { upc: '1' }, source: 'stock', at: 0 });
    now += 1;
    expect(await two.products()).toMatchObject({ hits: 0, fetched: 1 });
    expect(two.asked).toHaveLength(2);
  });

  it('counts an entry Redis holds past its time as stale, and asks the subgraph', async () => {
    const one = await gateway('stale:');
    await one.entities(['1']);
    await inRedis('stale:Product:{"upc":"1"}');
    const two = await gateway('stale:');
    now += 60_000;
    expect(await two.entities(['1'])).toMatchObject({ hits: 0, fetched: 1 });
    expect(await two.sample('stale_total', { type: 'Product' })).toBe(1);
    expect(two.asked).toHaveLength(1);
  });

  it('answers from the subgraph while Redis hangs, counting the failed read', async () => {
    const one = await gateway('hung:');
    await one.entities(['1']);
    await inRedis('hung:Product:{"upc":"1"}');
    const two = await gateway('hung:');
    cacheRedis.server.pause();
    expect(await two.entities(['1'])).toEqual({ response: { data: { _entities: [{ inStock: 1 }] } }, hint: { maxAge: 60, scope: 'PUBLIC' }, hits: 0, fetched: 1, entities: ['Product:{"upc":"1"}'] });
    expect(await two.sample('redis_errors_total', { operation: 'read' })).toBe(1);
    expect(await two.sample('hits_total', { type: 'Product', tier: 'redis' })).toBeUndefined();
  });
});
