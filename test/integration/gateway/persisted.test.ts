/** Automatic persisted queries (memory and real Redis state stores) and trusted documents. */
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { RedisStateStore } from '@trellis/kit/internal/state';
import { sha256 } from '../../../gateway/persisted';
import { parseSseEvents, postGraphQLSse, type GraphQLResult } from '../../support/graphql';
import { startStaticPlatform, type StaticPlatform } from '../../support/staticPlatform';
import { privateRedis } from '../../support/privateServers';
import type { AssembledGateway } from '../../../gateway/assemble';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Asked as application/graphql-response+json, where a refused request keeps its 4xx (application/json answers a request error 200). */
async function post(url: string, body: unknown, accept = 'application/graphql-response+json'): Promise<GraphQLResult> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });
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

  // A hash that does not match its query is an ill-formed request: 400 BAD_REQUEST under both media
  // types (a legacy application/json client too), refused before anything runs.
  for (const accept of ['application/graphql-response+json', 'application/json']) {
    const hijack = await post(platform.url, { query: '{ users { email } }', extensions: persisted(hash) }, accept);
    expect({ accept, status: hijack.status, errors: hijack.body.errors }).toEqual({ accept, status: 400, errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] });
  }
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
    // The cache port takes APQ (CACHE_REDIS_URL's, else the state store).
    const platform = await startStaticPlatform({ APQ_TTL_SECONDS: '600' }, { cache: state });
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

/**
 * Every result of one operation over graphql-ws, in order; an operation the server refuses before
 * it runs (graphql-ws's `error` message, which the client throws) is `[{ refused: errors }]`.
 */
async function overWebSocket(url: string, payload: { query: string; extensions?: Record<string, unknown> }) {
  const client = createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  type Outcome = { data?: unknown; errors?: ReadonlyArray<{ message: string; extensions?: unknown }>; refused?: unknown[] };
  const results: Outcome[] = [];
  try {
    for await (const result of client.iterate(payload)) results.push(result);
    return results;
  } catch (error) {
    if (!Array.isArray(error)) throw error;
    return [...results, { refused: error as unknown[] } as Outcome];
  } finally {
    await client.dispose();
  }
}

async function sseGet(url: string, params: Record<string, string>) {
  const response = await fetch(`${url}?${new URLSearchParams(params)}`, { headers: { accept: 'text/event-stream' } });
  return { status: response.status, events: parseSseEvents(await response.text()) };
}

describe('automatic persisted queries on graphql-ws and SSE', () => {
  let platform: StaticPlatform;
  beforeAll(async () => {
    platform = await startStaticPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });
  const lamp = { data: { product: { name: 'Gateway Desk Lamp' } } };
  const fresh = () => `query Apq_${randomUUID().replace(/-/g, '')} { product(id: "p5") { name } }`;

  it('runs the APQ protocol over graphql-ws: unknown hash, registration, then the hash alone', async () => {
    const query = fresh();
    const extensions = persisted(sha256(query));
    const unknown = await overWebSocket(platform.url, { query: '', extensions });
    expect(unknown).toEqual([{ refused: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] }]);
    expect(await overWebSocket(platform.url, { query, extensions })).toEqual([lamp]);
    expect(await overWebSocket(platform.url, { query: '', extensions })).toEqual([lamp]);
    const hijack = await overWebSocket(platform.url, { query: '{ users { email } }', extensions });
    expect(hijack).toEqual([{ refused: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] }]);
  });

  it('runs the APQ protocol over SSE, POST and GET', async () => {
    const query = fresh();
    const extensions = persisted(sha256(query));
    const unknown = await postGraphQLSse(platform.url, undefined, { extensions });
    expect(unknown.status).toBe(200);
    expect(unknown.events).toEqual([
      { event: 'next', data: { errors: [expect.objectContaining({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })] } },
      { event: 'complete', data: undefined },
    ]);
    expect((await postGraphQLSse(platform.url, query, { extensions })).events).toEqual([{ event: 'next', data: lamp }, { event: 'complete', data: undefined }]);
    expect((await postGraphQLSse(platform.url, undefined, { extensions })).events).toEqual([{ event: 'next', data: lamp }, { event: 'complete', data: undefined }]);
    const byGet = await sseGet(platform.url, { extensions: JSON.stringify(extensions) });
    expect(byGet).toEqual({ status: 200, events: [{ event: 'next', data: lamp }, { event: 'complete', data: undefined }] });
    const hijack = await postGraphQLSse(platform.url, '{ users { email } }', { extensions });
    expect(hijack.status).toBe(400);
  });

  it('shares one store across transports: a hash registered over HTTP runs over graphql-ws and SSE', async () => {
    const query = fresh();
    const extensions = persisted(sha256(query));
    expect((await post(platform.url, { query, extensions })).body).toEqual(lamp);
    expect(await overWebSocket(platform.url, { query: '', extensions })).toEqual([lamp]);
    expect((await postGraphQLSse(platform.url, undefined, { extensions })).events[0]).toEqual({ event: 'next', data: lamp });
  });

  it('registers a hash over graphql-ws and SSE only once every check passed: a refused query leaves it unknown, a valid one registers', async () => {
    // Deep enough for MAX_QUERY_DEPTH (12) to refuse, valid against the schema.
    const bomb = (tag: string) => `query Deep_${tag}_${randomUUID().replace(/-/g, '')} { users { ${'orders { user { '.repeat(8)}id${' } }'.repeat(8)} } }`;
    const overWs = bomb('ws');
    const wsRefused = await overWebSocket(platform.url, { query: overWs, extensions: persisted(sha256(overWs)) });
    // As on HTTP, where Apollo Server sends extensions.http as the status: never in the error itself.
    expect(wsRefused).toEqual([{ errors: [{ message: 'query depth 18 exceeds the limit of 12', extensions: { code: 'QUERY_TOO_DEEP', measured: 18, limit: 12 } }] }]);
    expect(await overWebSocket(platform.url, { query: '', extensions: persisted(sha256(overWs)) })).toEqual([
      { refused: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] },
    ]);
    const overSse = bomb('sse');
    const sseRefused = await postGraphQLSse(platform.url, overSse, { extensions: persisted(sha256(overSse)) });
    expect(sseRefused.events).toEqual([
      { event: 'next', data: { errors: [{ message: 'query depth 18 exceeds the limit of 12', extensions: { code: 'QUERY_TOO_DEEP', measured: 18, limit: 12 } }] } },
      { event: 'complete', data: undefined },
    ]);
    expect((await postGraphQLSse(platform.url, undefined, { extensions: persisted(sha256(overSse)) })).events[0]).toEqual({
      event: 'next',
      data: { errors: [expect.objectContaining({ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })] },
    });
    // The hashes stay unknown on HTTP too: one store for every transport.
    expect((await post(platform.url, { extensions: persisted(sha256(overWs)) })).body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post(platform.url, { extensions: persisted(sha256(overSse)) })).body.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');

    const validWs = fresh();
    expect(await overWebSocket(platform.url, { query: validWs, extensions: persisted(sha256(validWs)) })).toEqual([lamp]);
    expect((await post(platform.url, { extensions: persisted(sha256(validWs)) })).body).toEqual(lamp);
    const validSse = fresh();
    expect((await postGraphQLSse(platform.url, validSse, { extensions: persisted(sha256(validSse)) })).events[0]).toEqual({ event: 'next', data: lamp });
    expect((await post(platform.url, { extensions: persisted(sha256(validSse)) })).body).toEqual(lamp);
  });

  it('refuses a persisted query version it does not know, as HTTP does', async () => {
    const extensions = { persistedQuery: { version: 2, sha256Hash: sha256('{ x }') } };
    expect(await overWebSocket(platform.url, { query: '', extensions })).toEqual([{ refused: [{ message: 'Unsupported persisted query version', extensions: { code: 'BAD_REQUEST' } }] }]);
    expect((await postGraphQLSse(platform.url, undefined, { extensions })).status).toBe(400);
  });
});

describe('automatic persisted queries with the store down', () => {
  it('a lookup that fails is a miss (never a 500): the client sends the query and it runs; the failure is counted', async () => {
    const redis = await privateRedis();
    await redis.start();
    const state = new RedisStateStore({ url: redis.url, commandTimeoutMs: 500 });
    const platform = await startStaticPlatform({}, { cache: state });
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

  it('runs a manifest document by hash alone over graphql-ws and SSE, and nothing registers there either', async () => {
    const expected = { data: { product: { name: 'Gateway Desk Lamp' } } };
    expect(await overWebSocket(platform.url, { query: '', extensions: persisted(sha256(trustedQuery)) })).toEqual([expected]);
    expect((await postGraphQLSse(platform.url, undefined, { extensions: persisted(sha256(trustedQuery)) })).events[0]).toEqual({ event: 'next', data: expected });
    const other = '{ users { id } }';
    const register = await overWebSocket(platform.url, { query: other, extensions: persisted(sha256(other)) });
    expect(register[0].errors?.[0]).toMatchObject({ extensions: { code: 'PERSISTED_QUERY_NOT_ALLOWED' } });
    const afterRegister = await overWebSocket(platform.url, { query: '', extensions: persisted(sha256(other)) });
    expect(afterRegister).toEqual([{ refused: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] }]);
  });

  it('stops start-up on a bad manifest, naming the variable', async () => {
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{ not json');
    await expect(startStaticPlatform({ TRUSTED_DOCUMENTS: broken })).rejects.toThrow(/TRUSTED_DOCUMENTS=".*broken\.json": cannot read a JSON manifest/);
    await expect(startStaticPlatform({ TRUSTED_DOCUMENTS: path.join(dir, 'missing.json') })).rejects.toThrow(/TRUSTED_DOCUMENTS=/);
  });
});
