/**
 * Root fetches through the entity cache (a subgraph query that is not `_entities`), on its
 * in-process tier with a driven clock: kept whole only once the subgraph declared a maxAge, keyed
 * by query, variables, headers and whatever about the caller decides what the answer shows, dropped
 * with any entity it holds, and compared rather than served in shadow mode.
 */
import { buildSchema } from 'graphql';
import { Registry } from 'prom-client';
import { createLogger } from '@trellis/kit';
import { EntityCache, type CacheCaller, type FetchedAnswer } from '../../../../gateway/entityCache';
import { composeSupergraph } from '../../../../gateway/supergraph/compose';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@requiresScopes"])';
const SHELF = 'type Query { products(first: Int, after: Int): [Product!]! }';
const STOCK = 'type Product @key(fields: "upc") { upc: ID! inStock: Int cost: Int @requiresScopes(scopes: [["stock:cost"]]) }';
const SUPERGRAPH = (() => {
  const composed = composeSupergraph([
    { name: 'shelf', url: 'http://shelf', sdl: `${LINK} ${SHELF} type Product @key(fields: "upc") { upc: ID! }` },
    { name: 'stock', url: 'http://stock', sdl: `${LINK} ${STOCK}` },
  ]);
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return composed.supergraphSdl;
})();
/** The API schema the gateway serves (what a root answer is walked with). */
const API_SCHEMA = buildSchema(`${SHELF} type Product { upc: ID! inStock: Int cost: Int }`);

const PRODUCTS = 'query($first:Int,$after:Int){products(first:$first,after:$after){upc}}';
const alice: CacheCaller = { id: 'alice', scopes: [] };
const bob: CacheCaller = { id: 'bob', scopes: [] };

function setup(options: { mode?: 'on' | 'shadow'; maxTtlMs?: number; schema?: boolean } = {}) {
  let now = 1_000_000;
  const registry = new Registry();
  const cache = new EntityCache({
    settings: { mode: options.mode ?? 'on', localMax: 100, maxTtlMs: options.maxTtlMs ?? 3_600_000, redisTimeoutMs: 50, prefix: 'unit:' },
    registry,
    logger: createLogger({ service: 'test', level: 'silent' }),
    now: () => now,
  });
  cache.useSupergraph(SUPERGRAPH, options.schema === false ? undefined : API_SCHEMA);
  /** The variables of every fetch the subgraph was sent. */
  const asked: Array<Record<string, unknown>> = [];
  let hint: FetchedAnswer['hint'] = { maxAge: 60, scope: 'PUBLIC' };
  let data: () => Record<string, unknown> | null = () => ({ products: [{ upc: '1' }, { upc: '2' }] });
  let errors: FetchedAnswer['response']['errors'];
  const send = async (variables: Record<string, unknown>): Promise<FetchedAnswer> => {
    asked.push(variables);
    return { response: { data: data(), ...(errors ? { errors } : {}) }, hint };
  };
  const fetch = (variables: Record<string, unknown> = {}, caller: CacheCaller = null, query = PRODUCTS, vary?: string, subgraph = 'shelf') =>
    cache.fetch({ subgraph, query, variables, vary }, caller, send);
  const sample = async (name: string, labels: Record<string, string>) =>
    (await registry.getSingleMetric(`trellis_entity_cache_${name}`)?.get())?.values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label))?.value;
  return {
    cache,
    asked,
    fetch,
    sample,
    advance: (ms: number) => (now += ms),
    answer: (next: { hint?: FetchedAnswer['hint']; data?: () => Record<string, unknown> | null; errors?: FetchedAnswer['response']['errors'] }) => {
      if (next.hint) hint = next.hint;
      if (next.data) data = next.data;
      errors = next.errors;
    },
  };
}

describe('root fetches through the entity cache', () => {
  it('answers a root fetch whole from the cache once its subgraph declared a maxAge, with the time left', async () => {
    const { fetch, asked, advance, sample } = setup();
    const first = await fetch({ first: 2 });
    expect(first).toMatchObject({ response: { data: { products: [{ upc: '1' }, { upc: '2' }] } }, hint: { maxAge: 60, scope: 'PUBLIC' }, hits: 0, fetched: 1 });
    // Never declared before: not even looked up.
    expect(await sample('misses_total', { type: 'Query' })).toBeUndefined();
    advance(20_500);
    const again = await fetch({ first: 2 });
    expect(again).toEqual({ response: { data: { products: [{ upc: '1' }, { upc: '2' }] } }, hint: { maxAge: 39, scope: 'PUBLIC' }, hits: 1, fetched: 0 });
    expect(asked).toEqual([{ first: 2 }]);
    expect(await sample('hits_total', { type: 'Query', tier: 'local' })).toBe(1);
  });

  it('keeps it as long as declared, capped by ENTITY_CACHE_MAX_TTL_S, and counts one found past it as stale', async () => {
    const { fetch, asked, advance, sample, answer } = setup({ maxTtlMs: 30_000 });
    await fetch();
    advance(29_999);
    expect(await fetch()).toMatchObject({ hits: 1 });
    advance(1);
    expect(await fetch()).toMatchObject({ hits: 0, fetched: 1 });
    expect(asked).toHaveLength(2);
    expect(await sample('stale_total', { type: 'Query' })).toBe(1);
    expect(await sample('misses_total', { type: 'Query' })).toBe(1);
    answer({ hint: { maxAge: 10, scope: 'PUBLIC' } });
    advance(30_000);
    await fetch();
    advance(10_000);
    expect(await fetch()).toMatchObject({ hits: 0 });
  });

  it('keeps no answer the subgraph calls uncacheable, with an error, or without data', async () => {
    const { fetch, asked, answer } = setup();
    answer({ hint: { maxAge: 0, scope: 'PUBLIC' } });
    await fetch();
    await fetch();
    answer({ hint: { maxAge: 60, scope: 'PUBLIC' }, errors: [{ message: 'shelf is being restocked' }] });
    await fetch();
    await fetch();
    answer({ data: () => null });
    await fetch();
    await fetch();
    expect(asked).toHaveLength(6);
    answer({ data: () => ({ products: [] }) });
    await fetch();
    expect(await fetch()).toMatchObject({ hits: 1 });
    expect(asked).toHaveLength(7);
  });

  it('keeps answers apart by subgraph, query, variables (in any order) and the other headers the subgraph is sent', async () => {
    const { fetch, asked } = setup();
    await fetch({ first: 1, after: 2 });
    await fetch({ after: 2, first: 1 });
    expect(asked).toHaveLength(1);
    await fetch({ first: 1, after: 3 });
    await fetch({ first: 1, after: 2 }, null, PRODUCTS.replace('{upc}', '{upc __typename}'));
    await fetch({ first: 1, after: 2 }, null, PRODUCTS, undefined, 'other');
    await fetch({ first: 1, after: 2 }, null, PRODUCTS, '[["x-tenant","a"]]');
    await fetch({ first: 1, after: 2 }, null, PRODUCTS, '[["x-tenant","b"]]');
    await fetch({ first: 1, after: 2 }, null, PRODUCTS, '[["x-tenant","a"]]');
    expect(asked).toHaveLength(6);
  });

  it('keeps answers apart by sign-in and the scopes any guarded field names: holders of the same share', async () => {
    const { fetch, asked } = setup();
    await fetch({}, { id: 'c1', scopes: ['stock:cost', 'unrelated'] });
    await fetch({}, { id: 'c2', scopes: ['stock:cost'] });
    expect(asked).toHaveLength(1);
    await fetch({}, alice);
    await fetch({}, bob);
    expect(asked).toHaveLength(2);
    await fetch({}, null);
    await fetch({}, null);
    expect(asked).toHaveLength(3);
  });

  it('never shares a private answer: each caller its own entry, an anonymous caller none', async () => {
    const { fetch, asked, answer } = setup();
    answer({ hint: { maxAge: 60, scope: 'PRIVATE' }, data: () => ({ products: [{ upc: String(asked.length) }] }) });
    // Anonymous and private: nothing to keep it under.
    await fetch({}, null);
    await fetch({}, alice);
    await fetch({}, bob);
    expect(asked).toHaveLength(3);
    // Known private now: an anonymous caller's fetch is left to the data source, uncached.
    expect(await fetch({}, null)).toBeUndefined();
    expect(await fetch({}, alice)).toMatchObject({ response: { data: { products: [{ upc: '2' }] } }, hint: { scope: 'PRIVATE' }, hits: 1 });
    expect(await fetch({}, bob)).toMatchObject({ response: { data: { products: [{ upc: '3' }] } }, hits: 1 });
    expect(asked).toHaveLength(3);
  });

  it('drops an answer with any entity it holds, and keeps it through changes to others', async () => {
    const { fetch, asked, cache, advance } = setup();
    await fetch();
    await cache.invalidate({ type: 'Product', key: { upc: '9' }, source: 'stock', at: 0 });
    expect(await fetch()).toMatchObject({ hits: 1 });
    await cache.invalidate({ type: 'Product', key: { upc: '2' }, source: 'stock', at: 0 });
    expect(await fetch()).toMatchObject({ hits: 0, fetched: 1 });
    expect(asked).toHaveLength(2);
    // Kept again once fetched after the change (a change drops what was fetched up to its millisecond).
    advance(1);
    await fetch();
    expect(await fetch()).toMatchObject({ hits: 1 });
  });

  it('does not keep an answer fetched before a change to an entity it holds arrived', async () => {
    const { cache, fetch, asked } = setup();
    // Known cacheable now, so the next answer would be kept.
    await fetch({ first: 1 }, null, PRODUCTS, 'other');
    // A change to one of its entities arrives while the subgraph is answering.
    await cache.fetch({ subgraph: 'shelf', query: PRODUCTS, variables: { first: 1 } }, null, async () => {
      await cache.invalidate({ type: 'Product', key: { upc: '2' }, source: 'stock', at: 0 });
      return { response: { data: { products: [{ upc: '1' }, { upc: '2' }] } }, hint: { maxAge: 60, scope: 'PUBLIC' } };
    });
    expect(await fetch({ first: 1 })).toMatchObject({ hits: 0 });
    expect(asked).toHaveLength(2);
  });

  it('keeps no answer holding an entity it cannot name (no key fetched), since no change could drop it', async () => {
    const { fetch, asked, answer } = setup();
    answer({ data: () => ({ products: [{ inStock: 1 }] }) });
    await fetch({}, null, 'query{products{inStock}}');
    await fetch({}, null, 'query{products{inStock}}');
    expect(asked).toHaveLength(2);
  });

  it('while TTLs are shortened serves no answer older than the cap', async () => {
    const { fetch, asked, cache, advance } = setup();
    await fetch();
    advance(5_000);
    cache.shortenTtl(2_000);
    expect(await fetch()).toMatchObject({ hits: 0 });
    advance(1_999);
    expect(await fetch()).toMatchObject({ hits: 1, hint: { maxAge: 0 } });
    advance(1);
    expect(await fetch()).toMatchObject({ hits: 0 });
    advance(1);
    cache.shortenTtl(0);
    await fetch();
    expect(await fetch()).toMatchObject({ hits: 0 });
    expect(asked).toHaveLength(5);
  });

  it('leaves root fetches alone until it has the API schema to walk their answers with', async () => {
    const { fetch, asked } = setup({ schema: false });
    expect(await fetch()).toBeUndefined();
    expect(asked).toHaveLength(0);
  });
});

describe('root fetches in shadow mode', () => {
  it('serves the fresh answer, and counts each root field the cache had wrong under Query', async () => {
    const { fetch, asked, answer, sample } = setup({ mode: 'shadow' });
    await fetch();
    // Not compared: nothing was cached.
    expect(await sample('shadow_comparisons_total', { type: 'Query' })).toBeUndefined();
    answer({ data: () => ({ products: [{ upc: '1' }] }) });
    expect(await fetch()).toEqual({ response: { data: { products: [{ upc: '1' }] } }, hint: { maxAge: 60, scope: 'PUBLIC' }, hits: 0, fetched: 1 });
    // What `on` would have kept is kept: the first answer, compared again.
    await fetch();
    expect(asked).toHaveLength(3);
    expect(await sample('shadow_comparisons_total', { type: 'Query' })).toBe(2);
    expect(await sample('shadow_differences_total', { type: 'Query', field: 'products' })).toBe(2);
  });

  it('compares nothing with a fresh answer that erred or has no data', async () => {
    const { fetch, answer, sample } = setup({ mode: 'shadow' });
    await fetch();
    answer({ data: () => ({ products: [] }), errors: [{ message: 'partial' }] });
    await fetch();
    answer({ data: () => null });
    await fetch();
    expect(await sample('shadow_comparisons_total', { type: 'Query' })).toBeUndefined();
    answer({ data: () => ({ products: [{ upc: '1' }, { upc: '2' }] }) });
    await fetch();
    expect(await sample('shadow_comparisons_total', { type: 'Query' })).toBe(1);
    expect(await sample('shadow_differences_total', { type: 'Query', field: 'products' })).toBeUndefined();
  });
});
