/**
 * Root fetches through the entity cache (a subgraph query that is not `_entities`), on its
 * in-process tier with a driven clock: kept whole only once the subgraph declared a maxAge, keyed
 * by query, variables, headers and whatever about the caller decides what the answer shows, dropped
 * with any entity it holds, and compared rather than served in shadow mode.
 */
import { API_SCHEMA, PRODUCTS, alice, bob, entityCacheHarness } from '../../../support/entityCacheHarness';

const setup = (options: { mode?: 'on' | 'shadow'; maxTtlMs?: number } = {}) => entityCacheHarness({ schema: API_SCHEMA, ...options });

describe('root fetches through the entity cache', () => {
  it('answers a root fetch whole from the cache once its subgraph declared a maxAge, with the time left', async () => {
    const { fetchRoot, sent, advance, sample } = setup();
    const first = await fetchRoot({ first: 2 });
    expect(first).toMatchObject({ response: { data: { products: [{ upc: '1' }, { upc: '2' }] } }, hint: { maxAge: 60, scope: 'PUBLIC' }, hits: 0, fetched: 1 });
    // Never declared before: not even looked up.
    expect(await sample('misses_total', { type: 'Query' })).toBeUndefined();
    advance(20_500);
    const again = await fetchRoot({ first: 2 });
    expect(again).toEqual({ response: { data: { products: [{ upc: '1' }, { upc: '2' }] } }, hint: { maxAge: 39, scope: 'PUBLIC' }, hits: 1, fetched: 0, entities: ['Product:{"upc":"1"}', 'Product:{"upc":"2"}'] });
    expect(sent).toEqual([{ first: 2 }]);
    expect(await sample('hits_total', { type: 'Query', tier: 'local' })).toBe(1);
  });

  it('keeps it as long as declared, capped by ENTITY_CACHE_MAX_TTL_S, and counts one found past it as stale', async () => {
    const { fetchRoot, sent, advance, sample, answer } = setup({ maxTtlMs: 30_000 });
    await fetchRoot();
    advance(29_999);
    expect(await fetchRoot()).toMatchObject({ hits: 1 });
    advance(1);
    expect(await fetchRoot()).toMatchObject({ hits: 0, fetched: 1 });
    expect(sent).toHaveLength(2);
    expect(await sample('stale_total', { type: 'Query' })).toBe(1);
    expect(await sample('misses_total', { type: 'Query' })).toBe(1);
    answer({ hint: { maxAge: 10, scope: 'PUBLIC' } });
    advance(30_000);
    await fetchRoot();
    advance(10_000);
    expect(await fetchRoot()).toMatchObject({ hits: 0 });
  });

  it('keeps no answer the subgraph calls uncacheable, with an error, or without data', async () => {
    const { fetchRoot, sent, answer } = setup();
    answer({ hint: { maxAge: 0, scope: 'PUBLIC' } });
    await fetchRoot();
    await fetchRoot();
    answer({ hint: { maxAge: 60, scope: 'PUBLIC' }, errors: [{ message: 'shelf is being restocked' }] });
    await fetchRoot();
    await fetchRoot();
    answer({ data: () => null });
    await fetchRoot();
    await fetchRoot();
    expect(sent).toHaveLength(6);
    answer({ data: () => ({ products: [] }) });
    await fetchRoot();
    expect(await fetchRoot()).toMatchObject({ hits: 1 });
    expect(sent).toHaveLength(7);
  });

  it('keeps answers apart by subgraph, query, variables (in any order) and the other headers the subgraph is sent', async () => {
    const { fetchRoot, sent } = setup();
    await fetchRoot({ first: 1, after: 2 });
    await fetchRoot({ after: 2, first: 1 });
    expect(sent).toHaveLength(1);
    await fetchRoot({ first: 1, after: 3 });
    await fetchRoot({ first: 1, after: 2 }, null, PRODUCTS.replace('{upc}', '{upc __typename}'));
    await fetchRoot({ first: 1, after: 2 }, null, PRODUCTS, undefined, 'other');
    await fetchRoot({ first: 1, after: 2 }, null, PRODUCTS, '[["x-tenant","a"]]');
    await fetchRoot({ first: 1, after: 2 }, null, PRODUCTS, '[["x-tenant","b"]]');
    await fetchRoot({ first: 1, after: 2 }, null, PRODUCTS, '[["x-tenant","a"]]');
    expect(sent).toHaveLength(6);
  });

  it('keeps answers apart by sign-in and the scopes any guarded field names: holders of the same share', async () => {
    const { fetchRoot, sent } = setup();
    await fetchRoot({}, { id: 'c1', scopes: ['stock:cost', 'unrelated'] });
    await fetchRoot({}, { id: 'c2', scopes: ['stock:cost'] });
    expect(sent).toHaveLength(1);
    await fetchRoot({}, alice);
    await fetchRoot({}, bob);
    expect(sent).toHaveLength(2);
    await fetchRoot({}, null);
    await fetchRoot({}, null);
    expect(sent).toHaveLength(3);
  });

  it('never shares a private answer: each caller its own entry, an anonymous caller none', async () => {
    const { fetchRoot, sent, answer } = setup();
    answer({ hint: { maxAge: 60, scope: 'PRIVATE' }, data: () => ({ products: [{ upc: String(sent.length) }] }) });
    // Anonymous and private: nothing to keep it under.
    await fetchRoot({}, null);
    await fetchRoot({}, alice);
    await fetchRoot({}, bob);
    expect(sent).toHaveLength(3);
    // Known private now: an anonymous caller's fetch is left to the data source, uncached.
    expect(await fetchRoot({}, null)).toBeUndefined();
    expect(await fetchRoot({}, alice)).toMatchObject({ response: { data: { products: [{ upc: '2' }] } }, hint: { scope: 'PRIVATE' }, hits: 1 });
    expect(await fetchRoot({}, bob)).toMatchObject({ response: { data: { products: [{ upc: '3' }] } }, hits: 1 });
    expect(sent).toHaveLength(3);
  });

  it('drops an answer with any entity it holds, and keeps it through changes to others', async () => {
    const { fetchRoot, sent, cache, advance } = setup();
    await fetchRoot();
    await cache.invalidate({ type: 'Product', key: { upc: '9' }, source: 'stock', at: 0 });
    expect(await fetchRoot()).toMatchObject({ hits: 1 });
    await cache.invalidate({ type: 'Product', key: { upc: '2' }, source: 'stock', at: 0 });
    expect(await fetchRoot()).toMatchObject({ hits: 0, fetched: 1 });
    expect(sent).toHaveLength(2);
    // Kept again once fetched after the change (a change drops what was fetched up to its millisecond).
    advance(1);
    await fetchRoot();
    expect(await fetchRoot()).toMatchObject({ hits: 1 });
  });

  it('does not keep an answer fetched before a change to an entity it holds arrived', async () => {
    const { cache, fetchRoot, sent } = setup();
    // Known cacheable now, so the next answer would be kept.
    await fetchRoot({ first: 1 }, null, PRODUCTS, 'other');
    // A change to one of its entities arrives while the subgraph is answering.
    await cache.fetch({ subgraph: 'shelf', query: PRODUCTS, variables: { first: 1 } }, null, async () => {
      await cache.invalidate({ type: 'Product', key: { upc: '2' }, source: 'stock', at: 0 });
      return { response: { data: { products: [{ upc: '1' }, { upc: '2' }] } }, hint: { maxAge: 60, scope: 'PUBLIC' } };
    });
    expect(await fetchRoot({ first: 1 })).toMatchObject({ hits: 0 });
    expect(sent).toHaveLength(2);
  });

  it('keeps no answer holding an entity it cannot name (no key fetched), since no change could drop it', async () => {
    const { fetchRoot, sent, answer } = setup();
    answer({ data: () => ({ products: [{ inStock: 1 }] }) });
    await fetchRoot({}, null, 'query{products{inStock}}');
    await fetchRoot({}, null, 'query{products{inStock}}');
    expect(sent).toHaveLength(2);
  });

  it('while TTLs are shortened serves no answer older than the cap', async () => {
    const { fetchRoot, sent, cache, advance } = setup();
    await fetchRoot();
    advance(5_000);
    cache.shortenTtl(2_000);
    expect(await fetchRoot()).toMatchObject({ hits: 0 });
    advance(1_999);
    expect(await fetchRoot()).toMatchObject({ hits: 1, hint: { maxAge: 0 } });
    advance(1);
    expect(await fetchRoot()).toMatchObject({ hits: 0 });
    advance(1);
    cache.shortenTtl(0);
    await fetchRoot();
    expect(await fetchRoot()).toMatchObject({ hits: 0 });
    expect(sent).toHaveLength(5);
  });

  it('leaves root fetches alone until it has the API schema to walk their answers with', async () => {
    const { fetchRoot, sent } = entityCacheHarness();
    expect(await fetchRoot()).toBeUndefined();
    expect(sent).toHaveLength(0);
  });
});

describe('root fetches in shadow mode', () => {
  it('serves the fresh answer, and counts each root field the cache had wrong under Query', async () => {
    const { fetchRoot, sent, answer, sample } = setup({ mode: 'shadow' });
    await fetchRoot();
    // Not compared: nothing was cached.
    expect(await sample('shadow_comparisons_total', { type: 'Query' })).toBeUndefined();
    answer({ data: () => ({ products: [{ upc: '1' }] }) });
    expect(await fetchRoot()).toEqual({ response: { data: { products: [{ upc: '1' }] } }, hint: { maxAge: 60, scope: 'PUBLIC' }, hits: 0, fetched: 1, entities: ['Product:{"upc":"1"}'] });
    // What `on` would have kept is kept: the first answer, compared again.
    await fetchRoot();
    expect(sent).toHaveLength(3);
    expect(await sample('shadow_comparisons_total', { type: 'Query' })).toBe(2);
    expect(await sample('shadow_differences_total', { type: 'Query', field: 'products' })).toBe(2);
  });

  it('compares nothing with a fresh answer that erred or has no data', async () => {
    const { fetchRoot, answer, sample } = setup({ mode: 'shadow' });
    await fetchRoot();
    answer({ data: () => ({ products: [] }), errors: [{ message: 'partial' }] });
    await fetchRoot();
    answer({ data: () => null });
    await fetchRoot();
    expect(await sample('shadow_comparisons_total', { type: 'Query' })).toBeUndefined();
    answer({ data: () => ({ products: [{ upc: '1' }, { upc: '2' }] }) });
    await fetchRoot();
    expect(await sample('shadow_comparisons_total', { type: 'Query' })).toBe(1);
    expect(await sample('shadow_differences_total', { type: 'Query', field: 'products' })).toBeUndefined();
  });
});
