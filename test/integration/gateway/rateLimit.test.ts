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
import { loadConfig, type Env } from '@trellis/kit/internal/config';
import { createTokenVerifier } from '@trellis/kit';
import type { Subgraph } from '@trellis/kit';
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

  it('counts a graphql-ws connection when it opens and every operation on it, refusing the one over the limit with RATE_LIMITED for that operation alone', async () => {
    const { url } = await gateway({ GATEWAY_RATE_LIMIT: '3' });
    const asU3 = await identity.bearer('u3');
    const connect = () => {
      let closed: { code: number; reason: string } | undefined;
      const client = createClient({
        url: url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        // One connection for every operation (a lazy client closes it when idle and opens a new one).
        lazy: false,
        onNonLazyError: () => undefined,
        connectionParams: { headers: asU3 },
        on: { closed: (event) => (closed = event as { code: number; reason: string }) },
      });
      return { client, closed: () => closed };
    };
    const run = async (client: ReturnType<typeof createClient>) => {
      const results = [];
      try {
        for await (const result of client.iterate({ query: QUERY })) results.push(result);
        return results;
      } catch (error) {
        return [...results, { refused: error }];
      }
    };
    const first = connect();
    try {
      // The connection was 1, these two operations 2 and 3; the third is over the limit.
      for (let i = 0; i < 2; i++) expect(await run(first.client)).toEqual([{ data: { users: expect.any(Array) } }]);
      const [refused] = (await run(first.client)) as Array<{ refused: Array<{ message: string; extensions: { code: string; retryAfter: number } }> }>;
      const retryAfter = refused.refused[0].extensions.retryAfter;
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(refused).toEqual({
        refused: [{ message: `more than 3 requests in 60 s from this client; retry in ${retryAfter} s`, extensions: { code: 'RATE_LIMITED', retryAfter } }],
      });
      // Refused alone: the connection stays open.
      expect(first.closed()).toBeUndefined();
    } finally {
      await first.client.dispose();
    }
    // A new connection over the limit is refused as it opens: 4403, naming the rate limit.
    const second = connect();
    const outcome = (await run(second.client))[0] as { refused?: { code?: number; reason?: string } };
    await second.client.dispose();
    const closed = outcome.refused?.code ? outcome.refused : second.closed();
    expect(closed?.code).toBe(4403);
    expect(closed?.reason).toMatch(/^RATE_LIMITED: more than 3 requests in 60 s from this client; retry in \d+ s$/);
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

  describe('a flood of invalid tokens', () => {
    /** The gateway's real verifier, counting the tokens it is asked to verify. */
    const countingVerifier = () => {
      const real = createTokenVerifier(loadConfig(identity.env).auth!);
      const counted = { calls: 0, verify: (token: string) => ((counted.calls += 1), real.verify(token)) };
      return counted;
    };
    /** Tokens no one can use, each different (so no cache can answer): a forged signature, or not a JWT at all. */
    const invalidToken = async (i: number) => (i % 2 === 0 ? `${(await identity.token(`flood-${i}`)).slice(0, -4)}AAAA` : `garbage-${i}`);
    const stores: Array<[string, () => Env]> = [
      ['memory', () => ({})],
      ['Redis', () => ({ REDIS_URL: realBackends.redisUrl, REDIS_KEY_PREFIX: `${uniquePrefix('flood')}:` })],
    ];

    it.each(stores)('counts them against the address and, past the limit, refuses them on HTTP with 429 RATE_LIMITED, unverified (%s)', async (_store, env) => {
      const verifier = countingVerifier();
      const started = await startGateway({ SUPERGRAPH_PATH: supergraphPath, ...identity.env, GATEWAY_RATE_LIMIT: '5', ...env() }, {}, { verifier });
      gateways.push(started);
      const answers = [];
      for (let i = 0; i < 20; i++) {
        const response = await postGraphQL(started.url, QUERY, { headers: { authorization: `Bearer ${await invalidToken(i)}` } });
        answers.push([response.status, response.body.errors?.[0].extensions?.code]);
      }
      expect(answers).toEqual([...Array(5).fill([401, 'UNAUTHENTICATED']), ...Array(15).fill([429, 'RATE_LIMITED'])]);
      expect(verifier.calls).toBe(5);
      // The address is over its limit for anonymous requests too: the tokens used up its count.
      const anonymous = await postGraphQL(started.url, QUERY);
      expect([anonymous.status, anonymous.body.errors?.[0].extensions?.code]).toEqual([429, 'RATE_LIMITED']);
      expect(Number(anonymous.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    it.each(stores)('refuses them on graphql-ws the same way: 4403 naming RATE_LIMITED, unverified (%s)', async (_store, env) => {
      const verifier = countingVerifier();
      const started = await startGateway({ SUPERGRAPH_PATH: supergraphPath, ...identity.env, GATEWAY_RATE_LIMIT: '5', ...env() }, {}, { verifier });
      gateways.push(started);
      const reasons = [];
      for (let i = 0; i < 12; i++) {
        const token = await invalidToken(i);
        let client!: ReturnType<typeof createClient>;
        const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
          client = createClient({
            url: started.url.replace('http', 'ws'),
            webSocketImpl: WebSocket,
            retryAttempts: 0,
            lazy: false,
            onNonLazyError: () => undefined,
            connectionParams: { authorization: `Bearer ${token}` },
            on: { closed: (event) => resolve(event as { code: number; reason: string }) },
          });
        });
        await client.dispose();
        reasons.push([closed.code, closed.reason.split(':')[0]]);
      }
      expect(reasons).toEqual([...Array(5).fill([4403, 'UNAUTHENTICATED']), ...Array(7).fill([4403, 'RATE_LIMITED'])]);
      expect(verifier.calls).toBe(5);
    });
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
