/**
 * The gateway's rate limit end to end: on HTTP and SSE, per caller; two gateways on one real Redis
 * share a count; a Redis that dies lets every request through and each is counted in /metrics.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import type { Env } from '../../../shared/config';
import type { Subgraph } from '../../../shared/subgraph';
import type { AssembledGateway } from '../../../gateway/assemble';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { usersSubgraph, typeDefs as usersSdl } from '../../../subgraphs/users';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';
import { startTestIdentity, type TestIdentity } from '../../support/identity';
import { postGraphQL, postGraphQLSse } from '../../support/graphql';
import { realBackends, uniquePrefix } from '../../support/backends';
import { privateRedis, type PrivateServer } from '../../support/privateServers';

const QUERY = '{ users { id } }';

describe('gateway rate limit', () => {
  let users: Subgraph;
  let identity: TestIdentity;
  let supergraphPath: string;
  const gateways: InProcessGateway[] = [];
  const gateway = async (env: Env) => {
    const started = await startGateway({ SUPERGRAPH_PATH: supergraphPath, ...identity.env, ...env });
    gateways.push(started);
    return started;
  };

  beforeAll(async () => {
    identity = await startTestIdentity();
    users = await startSubgraph(usersSubgraph, {});
    const composed = composeSupergraph([{ name: 'users', sdl: usersSdl, url: users.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-ratelimit-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  });

  afterAll(async () => {
    for (const started of gateways.reverse()) await started.stop();
    await users?.stop();
    await identity?.stop();
  });

  it('answers within the limit with the RateLimit fields, then 429 RATE_LIMITED with Retry-After; a verified caller counts apart', async () => {
    const { url } = await gateway({ GATEWAY_RATE_LIMIT: '3' });
    for (let left = 2; left >= 0; left--) {
      const response = await postGraphQL(url, QUERY);
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      expect(response.headers.get('ratelimit-policy')).toBe('"gateway";q=3;w=60');
      expect(response.headers.get('ratelimit')).toMatch(new RegExp(`^"gateway";r=${left};t=\\d+$`));
    }
    const refused = await postGraphQL(url, QUERY);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit')).toBe(`"gateway";r=0;t=${retryAfter}`);
    expect(refused.body).toEqual({
      errors: [{ message: `more than 3 requests in 60 s from this client; retry in ${retryAfter} s`, extensions: { code: 'RATE_LIMITED', retryAfter } }],
    });

    // The same address with a verified token is another client.
    const asU1 = await identity.bearer('u1');
    const verified = await postGraphQL(url, QUERY, { headers: asU1 });
    expect(verified.status).toBe(200);
    expect(verified.headers.get('ratelimit')).toMatch(/^"gateway";r=2;t=\d+$/);
  });

  it('refuses an SSE request over the limit the same way, before the stream opens', async () => {
    const { url } = await gateway({ GATEWAY_RATE_LIMIT: '1' });
    const asU2 = await identity.bearer('u2');
    const first = await postGraphQLSse(url, QUERY, { headers: asU2 });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit')).toMatch(/^"gateway";r=0;t=\d+$/);
    expect(first.events.map((event) => event.event)).toEqual(['next', 'complete']);
    const refused = await fetch(url, { method: 'POST', headers: { ...asU2, 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query: QUERY }) });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: Number(refused.headers.get('retry-after')) });
  });

  it('counts a graphql-ws connection once, when it opens, and refuses one over the limit with 4403', async () => {
    const { url } = await gateway({ GATEWAY_RATE_LIMIT: '1' });
    const asU3 = await identity.bearer('u3');
    const connect = () => {
      let closedWith: number | undefined;
      const client = createClient({
        url: url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        // One connection for every operation (a lazy client closes it when idle and opens a new one).
        lazy: false,
        onNonLazyError: () => undefined,
        connectionParams: { headers: asU3 },
        on: { closed: (event) => (closedWith = (event as { code: number }).code) },
      });
      return { client, closedWith: () => closedWith };
    };
    const first = connect();
    try {
      // Two operations on one connection: the connection was counted, not each operation.
      for (let i = 0; i < 2; i++) {
        const results = [];
        for await (const result of first.client.iterate({ query: QUERY })) results.push(result);
        expect(results).toEqual([{ data: { users: expect.any(Array) } }]);
      }
    } finally {
      await first.client.dispose();
    }
    const second = connect();
    const outcome = await (async () => {
      try {
        for await (const result of second.client.iterate({ query: QUERY })) return result;
      } catch (error) {
        return error;
      }
    })();
    await second.client.dispose();
    expect((outcome as { code?: number }).code ?? second.closedWith()).toBe(4403);
  });

  it('shares one count between two gateways on the same Redis', async () => {
    const prefix = `${uniquePrefix('ratelimit')}:`;
    const env = { REDIS_URL: realBackends.redisUrl, REDIS_KEY_PREFIX: prefix, GATEWAY_RATE_LIMIT: '4' };
    const [a, b] = [await gateway(env), await gateway(env)];
    const statuses = [];
    for (const target of [a, b, a, b, a, b]) statuses.push((await postGraphQL(target.url, QUERY)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const redis = new Redis(realBackends.redisUrl);
    try {
      const keys = await redis.keys(`${prefix}ratelimit:gateway:ip:*`);
      expect(keys).toHaveLength(1);
      expect(await redis.get(keys[0])).toBe('6');
    } finally {
      await redis.quit();
    }
  });

  describe('when Redis dies', () => {
    let redis: PrivateServer;
    beforeAll(async () => {
      redis = await privateRedis();
      await redis.start();
    });
    afterAll(async () => redis?.kill());

    it('lets every request through, without RateLimit fields, and counts each in trellis_rate_limit_store_failures_total', async () => {
      const started = await gateway({ REDIS_URL: redis.url, GATEWAY_RATE_LIMIT: '2' });
      const counted = await postGraphQL(started.url, QUERY);
      expect(counted.headers.get('ratelimit')).toMatch(/^"gateway";r=1;t=\d+$/);

      await redis.kill();
      for (let i = 0; i < 5; i++) {
        const response = await postGraphQL(started.url, QUERY);
        expect(response.status).toBe(200);
        expect(response.body.errors).toBeUndefined();
        expect(response.headers.get('ratelimit')).toBeNull();
      }
      const metric = (started.server as AssembledGateway).metrics.registry.getSingleMetric('trellis_rate_limit_store_failures_total');
      if (!metric) throw new Error('trellis_rate_limit_store_failures_total is not registered');
      expect((await metric.get()).values).toEqual([expect.objectContaining({ labels: { policy: 'gateway' }, value: 5 })]);
    });
  });
});
