/**
 * One `_entities` fetch through the cache, in the cases a partial hit makes delicate: which
 * variables the subgraph gets, the hint of a mixed answer, an answer without data, and shadow
 * mode's comparisons (only of what the subgraph answered cleanly) and storing (each miss from its place).
 */
import { entityCacheHarness as setup, product } from '../../../support/entityCacheHarness';

describe('an entity fetch through the cache', () => {
  it('passes the fetch’s other variables on: with every entity missing as they came, otherwise with the misses only', async () => {
    const { fetch, sent } = setup();
    await fetch([product('1')], null, undefined, undefined, undefined, { locale: 'fr' });
    await fetch([product('1'), product('2')], null, undefined, undefined, undefined, { locale: 'fr' });
    expect(sent).toEqual([
      { locale: 'fr', representations: [product('1')] },
      { locale: 'fr', representations: [product('2')] },
    ]);
  });

  it('tells a mixed answer the stricter of the subgraph’s hint and the time its cached entities have left', async () => {
    const { fetch, advance, answer } = setup();
    await fetch([product('1')]);
    advance(20_000);
    expect((await fetch([product('1'), product('2')]))?.hint).toEqual({ maxAge: 40, scope: 'PUBLIC' });
    answer({ hint: { maxAge: 10, scope: 'PRIVATE' } });
    expect((await fetch([product('1'), product('3')], { id: 'alice', scopes: [] }))?.hint).toEqual({ maxAge: 10, scope: 'PRIVATE' });
  });

  it('serves every entity from the cache with the shortest time any has left', async () => {
    const { fetch, advance, answer } = setup();
    await fetch([product('1')]);
    advance(5_000);
    answer({ hint: { maxAge: 30, scope: 'PUBLIC' } });
    await fetch([product('2')]);
    advance(1_000);
    expect(await fetch([product('1'), product('2')])).toEqual({ response: { data: { _entities: [{ inStock: 1 }, { inStock: 2 }] } }, hint: { maxAge: 29, scope: 'PUBLIC' }, hits: 2, fetched: 0, entities: ['Product:{"upc":"1"}', 'Product:{"upc":"2"}'] });
  });

  it('answers as the subgraph did when it sent no data for the misses, its errors moved to their place', async () => {
    const { fetch, answer } = setup();
    await fetch([product('1')]);
    answer({ noData: true, errors: [{ message: 'stock is down', path: ['_entities', 0, 'inStock'] }, { message: 'and more', path: ['other', 0] }, { message: 'everywhere' }] });
    const answered = await fetch([product('1'), product('2')]);
    expect(answered).toEqual({
      response: { data: null, errors: [{ message: 'stock is down', path: ['_entities', 1, 'inStock'] }, { message: 'and more', path: ['other', 0] }, { message: 'everywhere' }] },
      hint: { maxAge: 60, scope: 'PUBLIC' },
      hits: 0,
      fetched: 1,
      entities: ['Product:{"upc":"1"}', 'Product:{"upc":"2"}'],
    });
    answer({ noData: true });
    expect((await fetch([product('1'), product('3')]))?.response).toEqual({ data: null });
  });

  it('leaves alone a fetch with no representations, or none it could key', async () => {
    const { fetch, cache } = setup();
    expect(await fetch([])).toBeUndefined();
    expect(await fetch([null, 'Product', { __typename: 7, upc: '1' }, { __typename: 'Product' }])).toBeUndefined();
    expect(await cache.fetch({ subgraph: 'stock', query: 'query($representations:[_Any!]!){_entities(representations:$representations){__typename}}', variables: { representations: 'p1' } }, null, async () => {
      throw new Error('not sent by the cache');
    })).toBeUndefined();
  });

  it('sends what it cannot key along with the rest, and keeps only what it can', async () => {
    const { fetch, asked } = setup();
    const unkeyed = { __typename: 'Product', sku: 's' };
    expect(await fetch([unkeyed, product('2')])).toMatchObject({ hits: 0, fetched: 2 });
    expect(await fetch([unkeyed, product('2')])).toMatchObject({ hits: 1, fetched: 1 });
    expect(asked).toEqual([[undefined, '2'], [undefined]]);
  });

  it('is off: nothing is cached or looked up', async () => {
    const { fetch, cache } = setup({ mode: 'off' });
    expect(cache.isEnabled).toBe(false);
    expect(await fetch([product('1')])).toBeUndefined();
    expect(setup().cache.isEnabled).toBe(true);
    expect(setup({ mode: 'shadow' }).cache.isEnabled).toBe(true);
  });
});

describe('the cache’s counters', () => {
  it('counts each announced change by type, and exports no Redis failure yet for each command kind', async () => {
    const { cache, sample } = setup();
    await cache.invalidate({ type: 'Product', key: { upc: '1' }, source: 'stock', at: 0 });
    await cache.invalidate({ type: 'Product', key: { upc: '2' }, source: 'stock', at: 0 });
    await cache.invalidate({ type: 'Order', key: { id: '1' }, source: 'stock', at: 0 });
    expect(await sample('invalidations_total', { type: 'Product' })).toBe(2);
    expect(await sample('invalidations_total', { type: 'Order' })).toBe(1);
    for (const operation of ['read', 'write', 'drop']) expect(await sample('redis_errors_total', { operation })).toBe(0);
  });

  it('counts a stale entry once, and no hit, when it is fetched again', async () => {
    const { fetch, advance, sample } = setup();
    await fetch([product('1')]);
    advance(60_000);
    await fetch([product('1')]);
    expect(await sample('stale_total', { type: 'Product' })).toBe(1);
    expect(await sample('misses_total', { type: 'Product' })).toBe(2);
    expect(await sample('hits_total', { type: 'Product', tier: 'local' })).toBeUndefined();
  });
});

describe('an entity fetch in shadow mode', () => {
  it('compares only the entities the subgraph answered without an error', async () => {
    const { fetch, answer, sample } = setup({ mode: 'shadow' });
    await fetch([product('1'), product('2')]);
    answer({ value: () => ({ inStock: 0 }), errors: [{ message: 'no stock for 1', path: ['_entities', 0, 'inStock'] }] });
    await fetch([product('1'), product('2')]);
    expect(await sample('shadow_comparisons_total', { type: 'Product' })).toBe(1);
    expect(await sample('shadow_differences_total', { type: 'Product', field: 'inStock' })).toBe(1);
    // An error it cannot place may concern any of them: nothing compared.
    answer({ value: () => ({ inStock: 0 }), errors: [{ message: 'stock had a bad day' }] });
    await fetch([product('1'), product('2')]);
    answer({ value: () => null });
    await fetch([product('1'), product('2')]);
    answer({ noData: true });
    await fetch([product('1'), product('2')]);
    expect(await sample('shadow_comparisons_total', { type: 'Product' })).toBe(1);
  });

  it('counts a field on one side only as a difference', async () => {
    const { fetch, answer, sample } = setup({ mode: 'shadow' });
    await fetch([product('1')]);
    answer({ value: () => ({ inStock: 1, name: 'new' }) });
    await fetch([product('1')]);
    expect(await sample('shadow_differences_total', { type: 'Product', field: 'name' })).toBe(1);
    expect(await sample('shadow_differences_total', { type: 'Product', field: 'inStock' })).toBeUndefined();
  });

  it('keeps each miss from its own place in the answer, so what is compared next is what on would serve', async () => {
    const { fetch, sample, asked } = setup({ mode: 'shadow' });
    await fetch([product('1')]);
    await fetch([product('1'), product('2')]);
    await fetch([product('2')]);
    expect(asked).toEqual([['1'], ['1', '2'], ['2']]);
    expect(await sample('shadow_comparisons_total', { type: 'Product' })).toBe(2);
    expect(await sample('shadow_differences_total', { type: 'Product', field: 'inStock' })).toBeUndefined();
  });

  it('keeps nothing of an answer with an error it cannot place, nor an entity an error names', async () => {
    const { fetch, answer, sample } = setup({ mode: 'shadow' });
    answer({ errors: [{ message: 'stock had a bad day' }] });
    await fetch([product('1')]);
    answer({ errors: [{ message: 'no stock for 2', path: ['_entities', 1] }] });
    await fetch([product('3'), product('2')]);
    answer({});
    await fetch([product('1'), product('2'), product('3')]);
    // Only 3 was kept, so only 3 is compared.
    expect(await sample('shadow_comparisons_total', { type: 'Product' })).toBe(1);
  });
});
