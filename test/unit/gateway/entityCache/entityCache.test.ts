/**
 * The entity cache's rules, on its in-process tier with a driven clock: what an entry is keyed
 * by (never shared between callers who could see different data), how long it lives (the
 * subgraph's declaration, capped, shortened while changes may be lost), partial hits put back in
 * order with errors renumbered, and shadow mode's counting.
 */
import { Registry } from 'prom-client';
import { EntityCache, type CacheCaller } from '../../../../gateway/entityCache';
import { RedisTier } from '../../../../gateway/entityCache/redisTier';
import { ResponseTier } from '../../../../gateway/entityCache/responseTier';
import { recordingLogger } from '../../../support/recordingLogger';
import { ENTITIES, alice, bob, entityCacheHarness as setup, product } from '../../../support/entityCacheHarness';

describe('EntityCache keying', () => {
  it('files an entity by its type and key, whatever else it sent: the second fetch asks nothing', async () => {
    const { fetch, asked } = setup();
    await fetch([product('1')]);
    const again = await fetch([product('1')]);
    expect(again?.response).toEqual({ data: { _entities: [{ inStock: 1 }] } });
    expect(again).toMatchObject({ hits: 1, fetched: 0 });
    expect(asked).toEqual([['1']]);
  });

  it('keeps entries apart by query, by subgraph, and by the other headers the subgraph is sent', async () => {
    const { fetch, asked } = setup();
    await fetch([product('1')]);
    await fetch([product('1')], null, ENTITIES.replace('inStock', 'inStock upc'));
    await fetch([product('1')], null, ENTITIES, 'shelf');
    await fetch([product('1')], null, ENTITIES, 'stock', '[["x-tenant","a"]]');
    await fetch([product('1')], null, ENTITIES, 'stock', '[["x-tenant","b"]]');
    await fetch([product('1')], null, ENTITIES, 'stock', '[["x-tenant","a"]]');
    expect(asked).toEqual([['1'], ['1'], ['1'], ['1'], ['1']]);
  });

  it('never shares a private answer: each caller its own entry, an anonymous caller none', async () => {
    const { fetch, asked, answer } = setup();
    answer({ hint: { maxAge: 60, scope: 'PRIVATE' }, value: (upc) => ({ inStock: Number(upc), owner: 'whoever asked' }) });
    await fetch([product('1')], alice);
    await fetch([product('1')], bob);
    expect(asked).toEqual([['1'], ['1']]);
    // Known private now: an anonymous caller's fetch is left to the data source, uncached.
    expect(await fetch([product('1')], null)).toBeUndefined();
    const hit = await fetch([product('1')], alice);
    expect(hit).toMatchObject({ hits: 1, hint: { scope: 'PRIVATE' } });
    expect(await fetch([product('1')], bob)).toMatchObject({ hits: 1 });
    expect(asked).toHaveLength(2);
  });

  it('keeps at most 32 entries of one entity in process (one per private caller): the oldest goes', async () => {
    const { fetch, asked, answer } = setup();
    answer({ hint: { maxAge: 60, scope: 'PRIVATE' } });
    const callers = Array.from({ length: 33 }, (_, index): CacheCaller => ({ id: `c${index}`, scopes: [] }));
    for (const caller of callers) await fetch([product('1')], caller);
    expect(await fetch([product('1')], callers[32])).toMatchObject({ hits: 1 });
    expect(await fetch([product('1')], callers[0])).toMatchObject({ hits: 0 });
    expect(asked).toHaveLength(34);
  });

  it('keys entities whose fields are guarded by the scopes that decide them: holders share, others do not', async () => {
    const { fetch, asked } = setup();
    const costly: CacheCaller = { id: 'c1', scopes: ['stock:cost', 'unrelated'] };
    const alsoCostly: CacheCaller = { id: 'c2', scopes: ['stock:cost'] };
    await fetch([product('1')], costly);
    await fetch([product('1')], alsoCostly);
    expect(asked).toHaveLength(1);
    await fetch([product('1')], alice);
    await fetch([product('1')], null);
    expect(asked).toHaveLength(3);
  });

  it('keys by whatever the representation carries besides its key (@requires fields)', async () => {
    const { fetch, asked } = setup();
    await fetch([{ ...product('1'), weight: 1 }]);
    await fetch([{ ...product('1'), weight: 2 }]);
    await fetch([{ ...product('1'), weight: 1 }]);
    expect(asked).toEqual([['1'], ['1']]);
  });

  it('files an entity with two keys under the one its representation carries', async () => {
    const { fetch, asked, cache } = setup();
    const query = ENTITIES.replace('Product{inStock}', 'Order{total}');
    await fetch([{ __typename: 'Order', number: 7 }], null, query);
    await fetch([{ __typename: 'Order', number: 7 }], null, query);
    expect(asked).toHaveLength(1);
    await cache.invalidate({ type: 'Order', key: { number: 7 }, source: 'stock', at: 0 });
    await fetch([{ __typename: 'Order', number: 7 }], null, query);
    expect(asked).toHaveLength(2);
  });

  it('leaves alone what it cannot hold: root fields, mutations, representations without a known key', async () => {
    const { fetch } = setup();
    expect(await fetch([product('1')], null, '{ products { upc } }')).toBeUndefined();
    expect(await fetch([product('1')], null, 'mutation($representations:[_Any!]!){_entities(representations:$representations){__typename}}')).toBeUndefined();
    expect(await fetch([{ __typename: 'Product', sku: '1' }])).toBeUndefined();
    expect(await fetch([{ upc: '1' }])).toBeUndefined();
  });
});

describe('EntityCache lifetimes', () => {
  it('keeps an entity as long as the answer declared, and counts one found past it as stale', async () => {
    const { fetch, asked, advance, sample } = setup();
    await fetch([product('1')]);
    advance(59_999);
    expect(await fetch([product('1')])).toMatchObject({ hits: 1 });
    advance(1);
    expect(await fetch([product('1')])).toMatchObject({ hits: 0 });
    expect(asked).toHaveLength(2);
    expect(await sample('stale_total', { type: 'Product' })).toBe(1);
  });

  it('keeps nothing the subgraph calls uncacheable, and nothing past ENTITY_CACHE_MAX_TTL_S', async () => {
    const { fetch, asked, answer, advance } = setup({ maxTtlMs: 10_000 });
    answer({ hint: { maxAge: 0, scope: 'PUBLIC' } });
    await fetch([product('1')]);
    await fetch([product('1')]);
    expect(asked).toHaveLength(2);
    answer({ hint: { maxAge: 600, scope: 'PUBLIC' } });
    advance(1);
    await fetch([product('1')]);
    advance(10_001);
    await fetch([product('1')]);
    expect(asked).toHaveLength(4);
  });

  it('while TTLs are shortened serves and keeps nothing older than the cap; restored, the declared TTL again', async () => {
    const { fetch, asked, cache, advance } = setup();
    await fetch([product('1')]);
    advance(5_000);
    cache.shortenTtl(2_000);
    await fetch([product('1')]);
    expect(asked).toHaveLength(2);
    advance(1_000);
    expect(await fetch([product('1')])).toMatchObject({ hits: 1 });
    cache.shortenTtl(undefined);
    // Kept for the cap while it was set, so it ends there even now.
    advance(1_001);
    expect(await fetch([product('1')])).toMatchObject({ hits: 0 });
    advance(30_000);
    expect(await fetch([product('1')])).toMatchObject({ hits: 1 });
    expect(asked).toHaveLength(3);
  });

  it('tells the response the time left on what it served', async () => {
    const { fetch, advance } = setup();
    await fetch([product('1')]);
    advance(20_500);
    expect((await fetch([product('1')]))?.hint).toEqual({ maxAge: 39, scope: 'PUBLIC' });
  });

  it('does not keep an answer fetched before a change to its entity arrived', async () => {
    const { cache, answer, asked, fetch } = setup();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    answer({ value: (upc) => ({ inStock: Number(upc) }) });
    const slow = cache.fetch({ subgraph: 'stock', query: ENTITIES, variables: { representations: [product('1')] } }, null, async () => {
      await held;
      return { response: { data: { _entities: [{ inStock: 1 }] } }, hint: { maxAge: 60, scope: 'PUBLIC' } };
    });
    await cache.invalidate({ type: 'Product', key: { upc: '1' }, source: 'stock', at: 0 });
    release();
    await slow;
    await fetch([product('1')]);
    expect(asked).toEqual([['1']]);
  });
});

describe('EntityCache partial hits', () => {
  it('asks only for the misses and answers in the order asked, errors renumbered to their place', async () => {
    const { fetch, asked, answer } = setup();
    await fetch([product('2')]);
    answer({ errors: [{ message: 'no stock for 3', path: ['_entities', 1, 'inStock'] }] });
    const mixed = await fetch([product('1'), product('2'), product('3')]);
    expect(asked).toEqual([['2'], ['1', '3']]);
    expect(mixed?.response).toEqual({ data: { _entities: [{ inStock: 1 }, { inStock: 2 }, { inStock: 3 }] }, errors: [{ message: 'no stock for 3', path: ['_entities', 2, 'inStock'] }] });
    expect(mixed).toMatchObject({ hits: 1, fetched: 2 });
    answer({});
    // The entity an error named was not kept; its neighbour was.
    await fetch([product('1'), product('3')]);
    expect(asked[2]).toEqual(['3']);
  });

  it('keeps nothing of an answer with an error it cannot place, and no null entity', async () => {
    const { fetch, asked, answer } = setup();
    answer({ errors: [{ message: 'the subgraph had a bad day' }] });
    await fetch([product('1')]);
    answer({ value: () => null });
    await fetch([product('2')]);
    answer({});
    await fetch([product('1'), product('2')]);
    expect(asked).toEqual([['1'], ['2'], ['1', '2']]);
  });

  it('counts hits by tier and misses by type', async () => {
    const { fetch, sample } = setup();
    await fetch([product('1'), product('2')]);
    await fetch([product('1'), product('2'), product('3')]);
    expect(await sample('hits_total', { type: 'Product', tier: 'local' })).toBe(2);
    expect(await sample('misses_total', { type: 'Product' })).toBe(3);
  });
});

describe('EntityCache shadow mode', () => {
  it('serves the fresh answer, asks for every entity, and counts each field the cache had wrong', async () => {
    const { fetch, asked, answer, sample } = setup({ mode: 'shadow' });
    answer({ value: (upc) => ({ inStock: Number(upc), name: `p${upc}` }) });
    await fetch([product('1'), product('2')]);
    answer({ value: (upc) => ({ inStock: upc === '1' ? 0 : Number(upc), name: `p${upc}` }) });
    const fresh = await fetch([product('1'), product('2'), product('3')]);
    expect(fresh?.response).toEqual({ data: { _entities: [{ inStock: 0, name: 'p1' }, { inStock: 2, name: 'p2' }, { inStock: 3, name: 'p3' }] } });
    expect(asked).toEqual([['1', '2'], ['1', '2', '3']]);
    expect(await sample('shadow_comparisons_total', { type: 'Product' })).toBe(2);
    expect(await sample('shadow_differences_total', { type: 'Product', field: 'inStock' })).toBe(1);
    expect(await sample('shadow_differences_total', { type: 'Product', field: 'name' })).toBeUndefined();
  });

  it('keeps what on would keep: an entity it held is not refreshed by the fresh answer', async () => {
    const { fetch, answer, sample } = setup({ mode: 'shadow' });
    await fetch([product('1')]);
    answer({ value: () => ({ inStock: 99 }) });
    await fetch([product('1')]);
    await fetch([product('1')]);
    expect(await sample('shadow_differences_total', { type: 'Product', field: 'inStock' })).toBe(2);
  });
});

describe('EntityCache lifecycle', () => {
  type Settings = ConstructorParameters<typeof EntityCache>[0]['settings'];
  const settings: Settings = { mode: 'off', localMax: 10, maxTtlMs: 60_000, redisTimeoutMs: 50, prefix: 'unit:', responses: true, redisUrl: 'redis://127.0.0.1:1' };
  const cacheWith = (changes: Partial<Settings>) => new EntityCache({ settings: { ...settings, ...changes }, registry: new Registry(), logger: recordingLogger().logger });
  afterEach(() => jest.restoreAllMocks());

  it('opens the cache Redis only while the cache is on, and closes it on stop', async () => {
    const close = jest.spyOn(RedisTier.prototype, 'close');
    await cacheWith({}).stop();
    expect(close).not.toHaveBeenCalled();
    await cacheWith({ mode: 'on' }).stop();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('passes each fetch’s entities to the whole-answer tier when it is on, and to none when it is off', async () => {
    const noted = jest.spyOn(ResponseTier.prototype, 'noteFetch');
    const context = {};
    const on = cacheWith({ mode: 'on', redisUrl: undefined });
    on.noteFetch(context, ['Product:{"upc":"1"}']);
    expect(noted).toHaveBeenCalledWith(context, ['Product:{"upc":"1"}']);
    cacheWith({ mode: 'on', redisUrl: undefined, responses: false }).noteFetch(context, undefined);
    expect(noted).toHaveBeenCalledTimes(1);
  });
});
