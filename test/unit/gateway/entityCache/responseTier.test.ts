/**
 * The response tier's own rules, driven through its Apollo plugin hooks with a driven clock and the
 * in-process store: which operations it looks up, what keeps answers apart, what is never kept
 * whole, private answers per caller, drops, and shadow mode. Through a real gateway:
 * test/integration/gateway/entityCacheResponses.test.ts.
 */
import type { GraphQLRequestContext, GraphQLRequestListener } from '@apollo/server';
import { Registry } from 'prom-client';
import type { GatewayContext } from '../../../../gateway/context';
import { EntityStore } from '../../../../gateway/entityCache/entityStore';
import { EntityCacheMetrics } from '../../../../gateway/entityCache/metrics';
import { ResponseTier } from '../../../../gateway/entityCache/responseTier';
import { SupergraphFacts } from '../../../../gateway/entityCache/supergraphFacts';
import { SUPERGRAPH } from '../../../support/entityCacheHarness';

const P1 = 'Product:{"upc":"1"}';
const P2 = 'Product:{"upc":"2"}';

/** Apollo's cache policy as the gateway sees it: restricted by each fetch, cacheable once it has a maxAge. */
class Policy {
  maxAge?: number;
  scope?: 'PUBLIC' | 'PRIVATE';
  restrict(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }) {
    if (hint.maxAge !== undefined && (this.maxAge === undefined || hint.maxAge < this.maxAge))
      this.maxAge = hint.maxAge;
    if (hint.scope === 'PRIVATE') this.scope = 'PRIVATE';
  }
  replace(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }) {
    Object.assign(this, hint);
  }
  policyIfCacheable() {
    return this.maxAge ? { maxAge: this.maxAge, scope: this.scope ?? 'PUBLIC' } : null;
  }
}

interface Ask {
  operation?: 'query' | 'mutation' | null;
  queryHash?: string;
  operationName?: string | null;
  variables?: Record<string, unknown>;
  user?: GatewayContext['user'];
  headers?: Record<string, string>;
}

interface Answer {
  /** Entities each fetch held; undefined for a fetch that could not name them. */
  fetches?: Array<string[] | undefined>;
  hint?: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' };
  data?: unknown;
  errors?: Array<{ message: string }>;
  /** Runs while the query is being fetched (after its lookup, before its answer). */
  during?: () => Promise<void>;
}

function setup(options: { mode?: 'on' | 'shadow'; store?: EntityStore } = {}) {
  let now = 1_000_000;
  const registry = new Registry();
  const metrics = new EntityCacheMetrics(registry);
  const store = options.store ?? new EntityStore({ localMax: 100, maxTtlMs: 3_600_000, metrics, now: () => now });
  let supergraph = { facts: SupergraphFacts.read(SUPERGRAPH), id: 'sg1' };
  const tier = new ResponseTier({
    mode: options.mode ?? 'on',
    store,
    metrics,
    now: () => now,
    supergraph: () => supergraph,
    vary: (context) => JSON.stringify(context.forwardHeaders),
  });
  const plugin = tier.plugin();

  /** One request through the hooks: looked up, then (unless served) fetched and answered as `answer` says. */
  const request = async (ask: Ask = {}, answer: Answer = {}) => {
    const contextValue = { forwardHeaders: ask.headers ?? {}, user: ask.user } as GatewayContext;
    const policy = new Policy();
    const requestContext = {
      operation: ask.operation === null ? undefined : { operation: ask.operation ?? 'query' },
      queryHash: ask.queryHash ?? 'hash-1',
      operationName: ask.operationName ?? null,
      request: { variables: ask.variables ?? { upcs: ['1', '2'] } },
      contextValue,
      overallCachePolicy: policy,
      response: { body: undefined as unknown },
    } as unknown as GraphQLRequestContext<GatewayContext> & { response: { body: unknown } };
    const listener = (await plugin.requestDidStart!(requestContext)) as GraphQLRequestListener<GatewayContext>;
    const served = await listener.responseForOperation!(requestContext as never);
    if (served) {
      requestContext.response.body = served.body;
    } else {
      await answer.during?.();
      for (const entities of answer.fetches ?? [[P1, P2]]) tier.noteFetch(contextValue, entities);
      policy.restrict(answer.hint ?? { maxAge: 30, scope: 'PUBLIC' });
      const data = 'data' in answer ? answer.data : { products: [{ upc: '1' }, { upc: '2' }] };
      requestContext.response.body = {
        kind: 'single',
        singleResult: { data: data as Record<string, unknown>, ...(answer.errors ? { errors: answer.errors } : {}) },
      };
    }
    await listener.willSendResponse!(requestContext as never);
    return { served: served?.body, policy: policy.policyIfCacheable(), http: served?.http };
  };
  const sample = async (name: string, labels: Record<string, string>) =>
    (await registry.getMetricsAsJSON())
      .find((metric) => metric.name === `trellis_entity_cache_${name}`)
      ?.values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value;
  return {
    tier,
    store,
    request,
    sample,
    advance: (ms: number) => (now += ms),
    useSupergraph: (id: string) => (supergraph = { facts: supergraph.facts, id }),
  };
}

const single = (data: unknown) => ({ kind: 'single', singleResult: { data } });

describe('the response tier', () => {
  it('keeps a query answered cacheable and serves it whole the next time, with the time it has left', async () => {
    const { request, sample, advance } = setup();
    expect((await request()).served).toBeUndefined();
    advance(10_500);
    const again = await request();
    expect(again.served).toEqual(single({ products: [{ upc: '1' }, { upc: '2' }] }));
    expect(again.http?.headers.size).toBe(0);
    expect(again.policy).toEqual({ maxAge: 19, scope: 'PUBLIC' });
    expect(await sample('hits_total', { type: 'Response', tier: 'local' })).toBe(1);
    expect(await sample('misses_total', { type: 'Response' })).toBe(0);
    // Served whole, it is not kept again: the next one still has the first answer's time left.
    advance(10_000);
    expect((await request()).policy).toEqual({ maxAge: 9, scope: 'PUBLIC' });
    advance(10_000);
    expect((await request()).served).toBeUndefined();
    expect(await sample('stale_total', { type: 'Response' })).toBe(1);
  });

  it('exports its counters from the start', async () => {
    const { sample } = setup();
    expect(await sample('hits_total', { type: 'Response', tier: 'local' })).toBe(0);
    expect(await sample('hits_total', { type: 'Response', tier: 'redis' })).toBe(0);
    expect(await sample('misses_total', { type: 'Response' })).toBe(0);
    expect(await sample('shadow_comparisons_total', { type: 'Response' })).toBeUndefined();
    expect(await setup({ mode: 'shadow' }).sample('shadow_comparisons_total', { type: 'Response' })).toBe(0);
  });

  it('looks up only queries: a mutation, or no operation, is neither served nor kept', async () => {
    const { request, sample } = setup();
    for (const operation of ['mutation', null] as const) {
      await request({ operation });
      expect((await request({ operation })).served).toBeUndefined();
    }
    await request({ queryHash: '' });
    expect((await request({ queryHash: '' })).served).toBeUndefined();
    expect(await sample('misses_total', { type: 'Response' })).toBe(0);
  });

  it('keeps answers apart by document, operation, variables (in any order), headers, the scopes guarded fields name, and supergraph', async () => {
    const { request, useSupergraph } = setup();
    await request({ variables: { upcs: ['1'], first: 2 } });
    expect((await request({ variables: { first: 2, upcs: ['1'] } })).served).toBeDefined();
    expect((await request({ variables: { upcs: ['2'], first: 2 } })).served).toBeUndefined();
    expect((await request({ variables: { upcs: ['1'], first: 2 }, queryHash: 'hash-2' })).served).toBeUndefined();
    expect((await request({ variables: { upcs: ['1'], first: 2 }, operationName: 'Other' })).served).toBeUndefined();
    expect(
      (await request({ variables: { upcs: ['1'], first: 2 }, headers: { 'x-tenant': 'b' } })).served,
    ).toBeUndefined();
    expect(
      (await request({ variables: { upcs: ['1'], first: 2 }, user: { id: 'alice', scopes: ['stock:cost'] } })).served,
    ).toBeUndefined();
    // A scope no guarded field names changes nothing; signed in does.
    await request({ user: { id: 'alice', scopes: [] } });
    expect((await request({ user: { id: 'bob', scopes: ['unrelated'] } })).served).toBeDefined();
    useSupergraph('sg2');
    expect((await request({ variables: { upcs: ['1'], first: 2 } })).served).toBeUndefined();
  });

  it('never keeps an answer with errors, without data, with a part it could not name, or with a part that may not be kept', async () => {
    const { request, sample } = setup();
    const cases: Answer[] = [
      { errors: [{ message: 'stock is down' }] },
      { data: null },
      { data: [] },
      { fetches: [[P1], undefined] },
      { hint: { maxAge: 0 } },
    ];
    for (const [index, answer] of cases.entries()) {
      await request({ queryHash: `h${index}` }, answer);
      expect((await request({ queryHash: `h${index}` })).served).toBeUndefined();
    }
    // No fetch at all (every part answered by the gateway itself): nothing to drop it by, kept for its maxAge.
    await request({ queryHash: 'none' }, { fetches: [] });
    expect((await request({ queryHash: 'none' })).served).toBeDefined();
    expect(await sample('hits_total', { type: 'Response', tier: 'local' })).toBe(1);
  });

  it('keeps a private answer under its caller only, never for an anonymous one, and looks up by the caller from then on', async () => {
    const { request } = setup();
    const alice = { id: 'alice', scopes: [] };
    const bob = { id: 'bob', scopes: [] };
    const asPrivate: Answer = { hint: { maxAge: 30, scope: 'PRIVATE' } };
    await request({}, asPrivate);
    expect((await request({}, asPrivate)).served).toBeUndefined();
    await request({ user: alice }, asPrivate);
    const mine = await request({ user: alice });
    expect(mine.served).toBeDefined();
    expect(mine.policy).toEqual({ maxAge: 30, scope: 'PRIVATE' });
    expect((await request({ user: bob })).served).toBeUndefined();
    // The query is known private: an anonymous caller is not looked up, nor kept.
    await request({}, {});
    expect((await request({})).served).toBeUndefined();
  });

  it('is dropped with any entity it holds, and not kept when one was dropped while it was being fetched', async () => {
    const { request, store, advance } = setup();
    await request({}, { fetches: [[P1], [P2]] });
    await store.drop('Product', P2);
    advance(1);
    expect((await request({}, { fetches: [[P1], [P2]] })).served).toBeUndefined();
    expect((await request()).served).toBeDefined();

    // A drop between the lookup and the answer: the answer may be what the change replaced.
    await request(
      { queryHash: 'during' },
      {
        fetches: [[P1]],
        during: async () => {
          await store.drop('Product', P1);
          advance(1);
        },
      },
    );
    expect((await request({ queryHash: 'during' })).served).toBeUndefined();
    expect((await request({ queryHash: 'during' })).served).toBeDefined();
  });

  it('ignores what a fetch reports for a request it is not following', () => {
    const { tier } = setup();
    expect(() => tier.noteFetch({}, [P1])).not.toThrow();
    expect(() => tier.noteFetch(undefined, undefined)).not.toThrow();
  });

  it('takes a whole answer found in the cache Redis into its own memory, filed under its entities', async () => {
    const metrics = new EntityCacheMetrics(new Registry());
    const store = new EntityStore({ localMax: 10, maxTtlMs: 60_000, metrics, now: () => 1_000_000 });
    const entry = {
      json: JSON.stringify({ entities: [P1], data: { products: [{ upc: '1' }] } }),
      expiresAt: 1_030_000,
      storedAt: 1_000_000,
      isPrivate: false,
    };
    const kept: Array<[string, readonly string[]]> = [];
    store.getRoot = async () => ({ entry, tier: 'redis' });
    store.keepRoot = (key, _entry, entities) => void kept.push([key, entities]);
    const { request } = setup({ store });
    await request({ queryHash: 'shared' });
    expect((await request({ queryHash: 'shared' })).served).toEqual(single({ products: [{ upc: '1' }] }));
    // The first answer was kept (in memory, filed under both); the second came from Redis, filed under what it holds.
    expect(kept).toEqual([
      [expect.stringMatching(/^[0-9a-f]{64}$/), [P1, P2]],
      [kept[0][0], [P1]],
    ]);
  });

  it('in shadow mode serves nothing whole: compares the kept answer with the fresh one, field by field, and keeps it as it was', async () => {
    const { request, sample } = setup({ mode: 'shadow' });
    await request({}, { data: { products: [{ upc: '1' }], count: 1 } });
    const fresh = Object.assign(Object.create(null) as Record<string, unknown>, { products: [{ upc: '1' }], count: 2 });
    expect((await request({}, { data: fresh })).served).toBeUndefined();
    expect(await sample('shadow_comparisons_total', { type: 'Response' })).toBe(1);
    expect(await sample('shadow_differences_total', { type: 'Response', field: 'count' })).toBe(1);
    // The executor's objects have no prototype: alike as JSON is alike.
    expect(await sample('shadow_differences_total', { type: 'Response', field: 'products' })).toBeUndefined();
    // Kept as `on` would have kept it: the first answer, compared again.
    await request({}, { data: { products: [{ upc: '1' }], count: 1 } });
    expect(await sample('shadow_comparisons_total', { type: 'Response' })).toBe(2);
    expect(await sample('shadow_differences_total', { type: 'Response', field: 'count' })).toBe(1);
  });
});
