/**
 * CACHE_REDIS_URL under `npm start`, on two real Redis: the state store (the shared one) and an LRU
 * cache instance of this test's own. The gateway's persisted queries and rate-limit counts, and
 * the web BFF's response cache and rate-limit counts, land on the cache; a session, a saga's record
 * and its dedupe keys land on the state store, and none of it on the cache.
 */
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { startPlatform, type RunningPlatform } from '../support/platform';
import { eventually, postGraphQL } from '../support/graphql';
import { platformToken } from '../support/identity';
import { realBackends, uniquePrefix } from '../support/backends';
import { privateRedis, type PausableServer } from '../support/privateServers';

const PLACE_ORDER = `mutation($items: [OrderItemInput!]!) { placeOrder(input: { items: $items, paymentMethod: "card-ok" }) { sagaId } }`;
const SAGA = 'query($id: ID!) { saga(id: $id) { state } }';
/** What may live on the cache: APQ, rate-limit counts, the BFFs' cached answers. */
const CACHE_FAMILIES = /^(gateway:apq:|ratelimit:|bff:(web|mobile):cache:)/;

async function keysOf(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch.map((key) => key.slice(prefix.length)));
  } while (cursor !== '0');
  return [...new Set(found)].sort();
}

describe('CACHE_REDIS_URL: caches and limits on their own Redis', () => {
  const prefix = `${uniquePrefix('cache')}:`;
  let cacheServer: PausableServer;
  let platform: RunningPlatform;
  let state: Redis;
  let cache: Redis;
  let buyer: { authorization: string };

  beforeAll(async () => {
    cacheServer = await privateRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
    await cacheServer.start();
    platform = await startPlatform({
      env: {
        REDIS_URL: realBackends.redisUrl,
        REDIS_KEY_PREFIX: prefix,
        CACHE_REDIS_URL: cacheServer.url,
        GATEWAY_RATE_LIMIT: '1000',
        GATEWAY_RATE_LIMIT_WINDOW_S: '600',
        BFF_CACHE_TTL_MS: '600000',
      },
      timeoutMs: 150_000,
    });
    state = new Redis(realBackends.redisUrl);
    cache = new Redis(cacheServer.url);
    buyer = { authorization: `Bearer ${await platformToken(platform.base, 'u1')}` };
  }, 200_000);

  afterAll(async () => {
    await platform?.stop();
    if (state) {
      const keys = await keysOf(state, prefix);
      if (keys.length > 0) await state.del(...keys.map((key) => prefix + key));
      state.disconnect();
    }
    cache?.disconnect();
    await cacheServer?.kill();
  });

  it("puts the gateway's persisted query and rate-limit count on the cache, not on the state store", async () => {
    const query = `query Cached_${Date.now()} { product(id: "p5") { name } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const body = (withQuery: boolean) => JSON.stringify({ ...(withQuery ? { query } : {}), extensions: { persistedQuery: { version: 1, sha256Hash } } });
    const post = async (withQuery: boolean) =>
      (await fetch(platform.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(withQuery) })).json();
    expect(await post(true)).toEqual({ data: { product: { name: 'Gateway Desk Lamp' } } });
    // The hash alone answers: the gateway reads the document back from where it registered it.
    expect(await post(false)).toEqual({ data: { product: { name: 'Gateway Desk Lamp' } } });

    const cached = await keysOf(cache, prefix);
    expect(cached).toContain(`gateway:apq:${sha256Hash}`);
    expect(cached.filter((key) => key.startsWith('ratelimit:gateway')).length).toBeGreaterThan(0);
    expect((await keysOf(state, prefix)).filter((key) => CACHE_FAMILIES.test(key))).toEqual([]);
  });

  it("puts the web BFF's cached page and rate-limit count on the cache", async () => {
    const response = await fetch(`http://127.0.0.1:${platform.base + 100}/api/pages/home`);
    expect(response.status).toBe(200);
    const cached = await keysOf(cache, prefix);
    expect(cached).toContain('bff:web:cache:public:pages/home');
    expect(cached.filter((key) => key.startsWith('ratelimit:web-bff')).length).toBeGreaterThan(0);
    expect((await keysOf(state, prefix)).filter((key) => CACHE_FAMILIES.test(key))).toEqual([]);
  });

  it("keeps the web BFF's sessions on the state store: evicted, one would sign its user out", async () => {
    const response = await fetch(`http://127.0.0.1:${platform.base + 100}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: buyer.authorization.slice('Bearer '.length) }),
    });
    expect(response.status).toBe(201);
    const sessionId = /trellis_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '')?.[1];
    expect(sessionId).toBeDefined();
    expect(await keysOf(state, prefix)).toContain(`bff:web:session:${sessionId}`);
    expect((await keysOf(cache, prefix)).filter((key) => key.includes('session'))).toEqual([]);
  });

  it("keeps a saga's record and dedupe keys on the state store, none on the cache", async () => {
    const placed = await postGraphQL<{ placeOrder: { sagaId: string } }>(platform.gatewayUrl, PLACE_ORDER, { variables: { items: [{ productId: 'p1', quantity: 1 }] }, headers: buyer });
    expect(placed.body.errors).toBeUndefined();
    const id = placed.body.data!.placeOrder.sagaId;
    await eventually(async () => {
      const { body } = await postGraphQL<{ saga: { state: string } }>(platform.gatewayUrl, SAGA, { variables: { id }, headers: buyer });
      expect(body.data?.saga?.state).toBe('COMPLETED');
    }, 60_000, 200);

    const stored = (await keysOf(state, prefix)).filter((key) => key.includes(id));
    // The record, and a dedupe key for each of the three steps the participants applied.
    expect(stored.filter((key) => /record/.test(key))).toHaveLength(1);
    expect(stored.filter((key) => /dedupe/.test(key)).length).toBeGreaterThanOrEqual(3);
    const cached = await keysOf(cache, prefix);
    expect(cached.filter((key) => key.includes(id) || key.includes('saga'))).toEqual([]);
    // Everything on the cache is a cache: nothing else was put there on the way.
    expect(cached.filter((key) => !CACHE_FAMILIES.test(key))).toEqual([]);
  });
});
