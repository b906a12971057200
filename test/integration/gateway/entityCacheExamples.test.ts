/**
 * The example subgraphs' `@cacheControl` declarations through a real gateway with the entity
 * cache on: a user (private), its orders (private) and their products (public) are served from the
 * cache the second time, and another caller is never served the first one's private entries (the
 * orders subgraph refuses them, as without a cache).
 */
import { randomUUID } from 'node:crypto';
import { postGraphQL } from '../../support/graphql';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { metricValue } from '../../support/metrics';
import { startStaticPlatform, type StaticPlatform } from '../../support/staticPlatform';

const HISTORY = '{ user(id: "u1") { name orders { id total status items { quantity product { name inStock } } } } }';

// off: the entity and root tiers answer (planned every time); on: the second answer is served whole.
describe.each(['off', 'on'] as const)('the entity cache over the example subgraphs (ENTITY_CACHE_RESPONSES=%s)', (responses) => {
  let identity: TestIdentity;
  let platform: StaticPlatform;

  beforeAll(async () => {
    identity = await startTestIdentity();
    platform = await startStaticPlatform({ ...identity.env, ENTITY_CACHE: 'on', ENTITY_CACHE_RESPONSES: responses, ENTITY_CACHE_PREFIX: `test:entity-examples:${randomUUID()}:` }, {}, identity.env);
  });
  afterAll(async () => {
    await platform?.stop();
    await identity?.stop();
  });

  const hits = (type: string) => metricValue(`${platform.gateway.server.admin.url}/metrics`, 'trellis_entity_cache_hits_total', { type, tier: 'local' });

  it("serves a user's orders and their products from the cache, and never another caller's orders", async () => {
    const u1 = await identity.bearer('u1');
    const first = await postGraphQL(platform.url, HISTORY, { headers: u1 });
    expect(first.body.errors).toBeUndefined();
    expect(first.headers.get('cache-control')).toBe('max-age=30, private');
    const fetchesBefore = await platform.subgraphFetches();
    const second = await postGraphQL(platform.url, HISTORY, { headers: u1 });
    expect(second.body).toEqual(first.body);
    // Nothing went out: the user (its root answer, private), its orders and their products came from the cache.
    expect((await platform.subgraphFetches()) - fetchesBefore).toBe(0);
    if (responses === 'on') {
      expect(await hits('Response')).toBe(1);
    } else {
      expect(await hits('Query')).toBe(1);
      expect(await hits('User')).toBe(1);
      expect(await hits('Product')).toBeGreaterThan(0);
    }

    const u2 = await postGraphQL(platform.url, HISTORY, { headers: await identity.bearer('u2') });
    expect(u2.body.errors).toEqual([expect.objectContaining({ path: ['user', 'orders'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    // u1's answer was private: u2 is never served it, whole or in part.
    if (responses === 'on') expect(await hits('Response')).toBe(1);
    else expect(await hits('User')).toBe(1);
  });

  it('puts authorization back on every answer: a field the caller may not see is refused with its error, whole answer or not, and the scope changes the answer', async () => {
    // With its key, so the user's root answer can be dropped with it (and so kept).
    const query = '{ user(id: "u1") { id name email } }';
    const without = await identity.bearer('u1');
    const first = await postGraphQL(platform.url, query, { headers: without });
    // email is non-null, so its refusal nulls the user.
    expect(first.body.data).toEqual({ user: null });
    expect(first.body.errors).toEqual([expect.objectContaining({ path: ['user', 'email'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    const fetchesBefore = await platform.subgraphFetches();
    const wholeBefore = await hits('Response').catch(() => 'not exported');
    const second = await postGraphQL(platform.url, query, { headers: without });
    expect(second.body).toEqual(first.body);
    expect((await platform.subgraphFetches()) - fetchesBefore).toBe(0);
    // on: the answer kept whole is the one before authorization's finishing, which is put back on it.
    if (responses === 'on') expect(await hits('Response')).toBe((wholeBefore as number) + 1);
    else expect(wholeBefore).toBe('not exported');

    const withScope = await postGraphQL(platform.url, query, { headers: await identity.bearer('u1', ['users:email']) });
    expect(withScope.body.errors).toBeUndefined();
    expect(withScope.body.data).toEqual({ user: { id: 'u1', name: expect.any(String), email: expect.stringContaining('@') } });
  });
});
