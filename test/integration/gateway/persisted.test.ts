/** Automatic persisted queries (memory and real Redis state stores) and trusted documents. */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { RedisStateStore } from '../../../shared/state';
import { sha256 } from '../../../gateway/persisted';
import { postGraphQLSse, type GraphQLResult } from '../../support/graphql';
import { startStaticPlatform, type StaticPlatform } from '../../support/staticPlatform';
import { privateRedis } from '../../support/privateServers';
import type { AssembledGateway } from '../../../gateway/assemble';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function post(url: string, body: unknown): Promise<GraphQLResult> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResult['body'] };
}

const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

/** The whole APQ protocol, as Apollo Client's persisted query link drives it. */
async function apqRoundTrip(platform: StaticPlatform) {
  // A fresh document each run, so a hash left in a shared store by an earlier run cannot answer.
  const query = `query Apq_${randomUUID().replace(/-/g, '')} { product(id: "p5") { name } }`;
  const hash = sha256(query);

  const unknown = await post(platform.url, { extensions: persisted(hash) });
  expect(unknown.body.errors?.[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });

  const registered = await post(platform.url, { query, extensions: persisted(hash) });
  expect(registered.body).toEqual({ data: { product: { name: 'Gateway Desk Lamp' } } });

  const hit = await post(platform.url, { extensions: persisted(hash) });
  expect(hit.status).toBe(200);
  expect(hit.body).toEqual({ data: { product: { name: 'Gateway Desk Lamp' } } });

  const hijack = await post(platform.url, { query: '{ users { email } }', extensions: persisted(hash) });
  expect(hijack.status).toBe(400);
  expect(hijack.body.errors?.[0].message).toBe('provided sha does not match query');
  // The hash still answers with its own document.
  expect((await post(platform.url, { extensions: persisted(hash) })).body).toEqual(hit.body);
  return hash;
}

describe('automatic persisted queries', () => {
  it('round-trips on the embedded state store, and never registers a refused bomb', async () => {
    const platform = await startStaticPlatform();
    try {
      await apqRoundTrip(platform);
      const bomb = `{ users { ${'orders { user { '.repeat(8)}id${' } }'.repeat(8)} } }`;
      expect((await post(platform.url, { query: bomb, extensions: persisted(sha256(bomb)) })).body.errors?.[0].extensions?.code).toBe('QUERY_TOO_DEEP');
      expect((await post(platform.url, { extensions: persisted(sha256(bomb)) })).body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    } finally {
      await platform.stop();
    }
  });

  it('round-trips on real Redis, with a TTL on the stored query', async () => {
    const keyPrefix = `test:apq:${randomUUID()}:`;
    const state = new RedisStateStore({ url: REDIS_URL, keyPrefix });
    const redis = new Redis(REDIS_URL);
    const platform = await startStaticPlatform({ APQ_TTL_SECONDS: '600' }, { state });
    try {
      const hash = await apqRoundTrip(platform);
      const key = `${keyPrefix}gateway:apq:${hash}`;
      expect(await redis.get(key)).toContain('query Apq_');
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(590_000);
      expect(ttl).toBeLessThanOrEqual(600_000);
    } finally {
      await platform.stop();
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await state.close();
      redis.disconnect();
    }
  });
});

describe('automatic persisted queries with the store down', () => {
  it('a lookup that fails is a miss (never a 500): the client sends the query and it runs; the failure is counted', async () => {
    const redis = await privateRedis();
    await redis.start();
    const state = new RedisStateStore({ url: redis.url, commandTimeoutMs: 500 });
    const platform = await startStaticPlatform({}, { state });
    try {
      await apqRoundTrip(platform);
      await redis.kill();
      const query = `query Down_${randomUUID().replace(/-/g, '')} { product(id: "p5") { name } }`;
      const miss = await post(platform.url, { extensions: persisted(sha256(query)) });
      expect(miss.status).toBe(200);
      expect(miss.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      const sent = await post(platform.url, { query, extensions: persisted(sha256(query)) });
      expect(sent).toMatchObject({ status: 200, body: { data: { product: { name: 'Gateway Desk Lamp' } } } });
      const { values } = await (platform.gateway.server as AssembledGateway).metrics.persistedQueryStoreErrors.get();
      expect(values[0].value).toBe(1);
    } finally {
      await platform.stop();
      // Back up, so the client closes cleanly instead of reconnecting forever.
      await redis.start();
      await state.close();
      await redis.kill();
    }
  });
});

describe('trusted documents', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-trusted-'));
  const trustedQuery = 'query Lamp { product(id: "p5") { name } }';
  const manifest = path.join(dir, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: sha256(trustedQuery), name: 'Lamp', type: 'query', body: trustedQuery }] }),
  );
  let platform: StaticPlatform;

  beforeAll(async () => {
    platform = await startStaticPlatform({ TRUSTED_DOCUMENTS: manifest });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('runs a manifest document by hash alone, or by its body', async () => {
    const expected = { data: { product: { name: 'Gateway Desk Lamp' } } };
    expect((await post(platform.url, { extensions: persisted(sha256(trustedQuery)) })).body).toEqual(expected);
    expect((await post(platform.url, { query: trustedQuery })).body).toEqual(expected);
  });

  it('refuses any other document with 403 PERSISTED_QUERY_NOT_ALLOWED, and lets nothing register', async () => {
    const before = await platform.subgraphFetches();
    const freeform = await post(platform.url, { query: '{ users { email } }' });
    expect(freeform.status).toBe(403);
    expect(freeform.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');

    const other = '{ users { email } }';
    const register = await post(platform.url, { query: other, extensions: persisted(sha256(other)) });
    expect(register.status).toBe(403);
    expect(register.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    const afterRegister = await post(platform.url, { extensions: persisted(sha256(other)) });
    expect(afterRegister.body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await platform.subgraphFetches()).toBe(before);
  });

  it('applies the same manifest to WebSocket and SSE operations', async () => {
    const client = createClient({ url: platform.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const over = async (query: string) => {
      const results = [];
      for await (const result of client.iterate({ query })) results.push(result);
      return results;
    };
    try {
      expect(await over(trustedQuery)).toEqual([{ data: { product: { name: 'Gateway Desk Lamp' } } }]);
      const refused = await over('{ users { id } }');
      expect(refused[0].errors?.[0]).toMatchObject({ extensions: { code: 'PERSISTED_QUERY_NOT_ALLOWED' } });
    } finally {
      await client.dispose();
    }
    const sse = await postGraphQLSse(platform.url, '{ users { id } }');
    expect(JSON.stringify(sse.events)).toContain('PERSISTED_QUERY_NOT_ALLOWED');
  });

  it('stops start-up on a bad manifest, naming the variable', async () => {
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{ not json');
    await expect(startStaticPlatform({ TRUSTED_DOCUMENTS: broken })).rejects.toThrow(/TRUSTED_DOCUMENTS=".*broken\.json": cannot read a JSON manifest/);
    await expect(startStaticPlatform({ TRUSTED_DOCUMENTS: path.join(dir, 'missing.json') })).rejects.toThrow(/TRUSTED_DOCUMENTS=/);
  });
});
