/**
 * Both BFFs on real Redis (the platform on real Consul, Redis and Kafka): the rate limit counts per
 * client in Redis, cached reads come from Redis, and one user's cached answer never reaches another.
 */
import Redis from 'ioredis';
import { startPlatform, type RunningPlatform } from '../../support/platform';
import { realBackends, uniquePrefix } from '../../support/backends';
import { getJson, mobileUrl, tokenFor, webSession, webUrl } from '../../support/bff';

const LIMIT = 20;

describe('BFFs on real Redis', () => {
  let platform: RunningPlatform;
  let redis: Redis;
  const prefix = `${uniquePrefix('bff')}:`;

  beforeAll(async () => {
    platform = await startPlatform({ backends: 'real', env: { REDIS_KEY_PREFIX: prefix, BFF_RATE_LIMIT_PER_MINUTE: String(LIMIT), BFF_CACHE_TTL_MS: '5000' } });
    redis = new Redis(realBackends.redisUrl);
  });
  afterAll(async () => {
    await redis.quit();
    expect(await platform.stop()).toBe(0);
  });

  it('limits each client to the configured requests per minute, counted in Redis, with 429 and Retry-After', async () => {
    const mobile = mobileUrl(platform);
    const u3 = { authorization: `Bearer ${await tokenFor(platform, 'u3')}` };
    for (let i = 1; i <= LIMIT; i++) {
      const response = await getJson(`${mobile}/v1/products/p1`, u3);
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-policy')).toBe(`"mobile-bff";q=${LIMIT};w=60`);
      expect(response.headers.get('ratelimit')).toMatch(new RegExp(`^"mobile-bff";r=${LIMIT - i};t=\\d+$`));
    }
    const refused = await getJson(`${mobile}/v1/products/p1`, u3);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await redis.get(`${prefix}ratelimit:mobile-bff:user:u3`)).toBe(String(LIMIT + 1));
    // Another client is counted apart.
    expect((await getJson(`${mobile}/v1/products/p1`, { authorization: `Bearer ${await tokenFor(platform, 'u2')}` })).status).toBe(200);
  });

  it('serves a repeated page read from the Redis cache, and never one user answer to another', async () => {
    const web = webUrl(platform);
    const ada = await webSession(web, await tokenFor(platform, 'u1'));
    const grace = await webSession(web, await tokenFor(platform, 'u2'));
    expect(await redis.keys(`${prefix}bff:web:session:*`)).toHaveLength(2);

    const miss = await getJson(`${web}/api/pages/home`, { cookie: ada });
    const hit = await getJson(`${web}/api/pages/home`, { cookie: ada });
    expect([miss.headers.get('x-cache'), hit.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);
    expect(hit.body).toEqual(miss.body);
    process.stdout.write(`web home page: miss ${miss.ms.toFixed(1)} ms, hit ${hit.ms.toFixed(1)} ms\n`);
    expect(await redis.keys(`${prefix}bff:web:cache:user:u1:*`)).toHaveLength(1);

    const other = await getJson(`${web}/api/pages/home`, { cookie: grace });
    expect(other.headers.get('x-cache')).toBe('MISS');
    expect(other.body.user.id).toBe('u2');
    expect(JSON.stringify(other.body)).not.toContain('Ada');
    expect(other.body.recentOrders.map((o: { id: string }) => o.id)).not.toContain('o1');

    const anonymous = await getJson(`${web}/api/pages/home`);
    expect(anonymous.body.user).toBeNull();
    expect(anonymous.body.recentOrders).toEqual([]);
  });

  it('keys personal mobile reads by identity and scopes', async () => {
    const mobile = mobileUrl(platform);
    const full = { authorization: `Bearer ${await tokenFor(platform, 'u1')}` };
    const noScopes = { authorization: `Bearer ${await tokenFor(platform, 'u1', [])}` };
    const u2 = { authorization: `Bearer ${await tokenFor(platform, 'u2')}` };
    expect((await getJson(`${mobile}/v1/me`, full)).body).toEqual({ id: 'u1', name: 'Ada Lovelace', email: 'ada@example.com' });
    expect((await getJson(`${mobile}/v1/me`, noScopes)).body).toEqual({ id: 'u1', name: 'Ada Lovelace' });
    expect((await getJson(`${mobile}/v1/me`, u2)).body).toEqual({ id: 'u2', name: 'Grace Hopper', email: expect.stringContaining('@') });
    const u2Orders = await getJson(`${mobile}/v1/orders`, u2);
    expect(u2Orders.body.items.map((o: { id: string }) => o.id)).toEqual(['o3']);
  });
});
