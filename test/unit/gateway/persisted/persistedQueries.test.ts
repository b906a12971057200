/**
 * The persisted-queries extension: APQ in the state store, shared by HTTP (Apollo's cache) and
 * WebSocket/SSE (the gateway's lookup and registration), or trusted documents only, refused with
 * PERSISTED_QUERY_NOT_ALLOWED (403 on HTTP) for anything outside the manifest.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Request, Response } from 'express';
import { GraphQLError, GraphQLSchema, parse, type OperationDefinitionNode } from 'graphql';
import { persistedQueries, sha256, PERSISTED_QUERY_NOT_ALLOWED } from '../../../../gateway/persisted';
import type { GatewayContext } from '../../../../gateway/context';
import { InMemoryStateStore } from '@trellis/kit/testing';
import { recordingLogger } from '../../../support/recordingLogger';

const trustedQuery = '{ products { id } }';
const otherQuery = '{ users { email } }';

function apq(ttlSeconds = 60) {
  let now = 0;
  const state = new InMemoryStateStore({ now: () => now });
  const { logger, lines } = recordingLogger();
  let storeErrors = 0;
  const extension = persistedQueries({
    settings: { ttlSeconds },
    state,
    logger,
    onStoreError: () => (storeErrors += 1),
  });
  return { extension, state, lines, advance: (ms: number) => void (now += ms), storeErrors: () => storeErrors };
}

function trusted() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'trellis-trusted-'));
  const manifest = path.join(dir, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: 'products-v1', name: 'P', type: 'query', body: trustedQuery }],
    }),
  );
  const { logger, lines } = recordingLogger();
  const extension = persistedQueries({
    settings: { ttlSeconds: 60, trustedDocumentsPath: manifest },
    state: new InMemoryStateStore(),
    logger,
  });
  return { extension, lines, manifest };
}

describe('automatic persisted queries (the default)', () => {
  it('gives Apollo Server a cache in the state store with the configured TTL, and adds no operation check of its own', () => {
    const { extension } = apq(42);
    expect(extension.name).toBe('persisted-queries');
    expect(extension.apolloOptions?.persistedQueries).toMatchObject({ ttl: 42 });
    expect(extension.graphqlMiddleware).toHaveLength(1);
    expect(extension.checkOperation).toBeUndefined();
  });

  it('registers a query sent on WebSocket or SSE where Apollo Server finds it on HTTP, and the reverse', async () => {
    const { extension, state } = apq();
    const documents = extension.persistedDocuments!;
    const { cache } = extension.apolloOptions!.persistedQueries as {
      cache: { get(key: string): Promise<string | undefined>; set(key: string, value: string): Promise<void> };
    };
    await documents.register('h1', trustedQuery);
    expect(await cache.get('apq:h1')).toBe(trustedQuery);
    expect(await state.get('gateway:apq:h1')).toBe(trustedQuery);
    await cache.set('apq:h2', otherQuery);
    expect(await documents.lookup('h2')).toBe(otherQuery);
    expect(await documents.lookup('h3')).toBeUndefined();
  });

  it('keeps a query registered on WebSocket or SSE for the configured TTL', async () => {
    const { extension, advance } = apq(30);
    await extension.persistedDocuments!.register('h', trustedQuery);
    advance(29_999);
    expect(await extension.persistedDocuments!.lookup('h')).toBe(trustedQuery);
    advance(1);
    expect(await extension.persistedDocuments!.lookup('h')).toBeUndefined();
  });

  it('logs a failed registration and goes on: the client only has to send the query again', async () => {
    const { extension, state, lines } = apq();
    state.set = async () => {
      throw new Error('redis down');
    };
    await expect(extension.persistedDocuments!.register('h', trustedQuery)).resolves.toBeUndefined();
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', msg: 'persisted query registration failed' })]);
  });

  it('serves a lookup the store cannot answer as a miss, and counts it', async () => {
    const { extension, state, lines, storeErrors } = apq();
    state.get = async () => {
      throw new Error('redis down');
    };
    await expect(extension.persistedDocuments!.lookup('h')).resolves.toBeUndefined();
    expect(storeErrors()).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'persisted query lookup failed; treated as a miss',
        err: 'redis down',
      }),
    ]);
  });
});

function respond() {
  const sent: { status?: number; body?: unknown; next: boolean } = { next: false };
  const res = {
    locals: {},
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: unknown) {
      sent.body = body;
      return this;
    },
  } as unknown as Response;
  return { res, sent, next: () => void (sent.next = true) };
}

const refusedBody = {
  errors: [
    {
      message: 'only trusted documents may run here: send the hash of a document in the manifest',
      extensions: { code: 'PERSISTED_QUERY_NOT_ALLOWED' },
    },
  ],
};

describe('trusted documents (TRUSTED_DOCUMENTS)', () => {
  it('says how many documents it loaded, from where', () => {
    const { lines, manifest } = trusted();
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'trusted documents loaded; other documents are refused',
        documents: 1,
        path: manifest,
      }),
    ]);
  });

  it('answers Apollo Server from the manifest only: by id or body hash, with or without the apq: prefix, and never stores a registration', async () => {
    const { extension } = trusted();
    const options = extension.apolloOptions!.persistedQueries as {
      ttl: unknown;
      cache: {
        get(key: string): Promise<unknown>;
        set(key: string, value: string): Promise<unknown>;
        delete(key: string): Promise<unknown>;
      };
    };
    expect(options.ttl).toBeNull();
    expect(await options.cache.get('apq:products-v1')).toBe(trustedQuery);
    expect(await options.cache.get(`apq:${sha256(trustedQuery)}`)).toBe(trustedQuery);
    expect(await options.cache.get('products-v1')).toBe(trustedQuery);
    expect(await options.cache.get('xapq:products-v1')).toBeUndefined();
    await options.cache.set(`apq:${sha256(otherQuery)}`, otherQuery);
    expect(await options.cache.get(`apq:${sha256(otherQuery)}`)).toBeUndefined();
    expect(await options.cache.delete('apq:products-v1')).toBe(false);
    expect(await options.cache.get('apq:products-v1')).toBe(trustedQuery);
  });

  it('answers WebSocket and SSE from the manifest, and registers nothing', async () => {
    const documents = trusted().extension.persistedDocuments!;
    expect(await documents.lookup('products-v1')).toBe(trustedQuery);
    await documents.register(sha256(otherQuery), otherQuery);
    expect(await documents.lookup(sha256(otherQuery))).toBeUndefined();
  });

  it('refuses an operation on WebSocket or SSE whose text is not in the manifest, with PERSISTED_QUERY_NOT_ALLOWED', () => {
    const { extension } = trusted();
    const check = (source: string) => {
      const document = parse(source);
      return extension.checkOperation!({
        source,
        document,
        operation: document.definitions[0] as OperationDefinitionNode,
        schema: new GraphQLSchema({}),
        context: {} as GatewayContext,
      });
    };
    expect(check(trustedQuery)).toBeUndefined();
    let refusal: unknown;
    try {
      check(otherQuery);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(GraphQLError);
    expect(refusal).toMatchObject({
      message: refusedBody.errors[0].message,
      extensions: { code: PERSISTED_QUERY_NOT_ALLOWED },
    });
  });

  it.each([
    ['a GET of a listed query', { method: 'GET', query: { query: trustedQuery } }],
    ['a POST of a listed query', { method: 'POST', body: { query: trustedQuery } }],
    [
      'a POST of a hash alone',
      { method: 'POST', body: { extensions: { persistedQuery: { version: 1, sha256Hash: 'products-v1' } } } },
    ],
    ['a GET of a hash alone', { method: 'GET', query: { extensions: '{}' } }],
    ['a POST with no body', { method: 'POST', body: undefined }],
    ['a batch of listed queries', { method: 'POST', body: [{ query: trustedQuery }, { query: trustedQuery }] }],
  ])('lets %s through to Apollo Server', (_case, request) => {
    const [middleware] = trusted().extension.graphqlMiddleware!;
    const { res, sent, next } = respond();
    middleware(request as Request, res, next);
    expect(sent).toEqual({ next: true });
  });

  it.each([
    ['a GET of another query', { method: 'GET', query: { query: otherQuery } }],
    ['a POST of another query', { method: 'POST', body: { query: otherQuery } }],
    [
      'a POST of another query with a listed hash',
      {
        method: 'POST',
        body: { query: otherQuery, extensions: { persistedQuery: { version: 1, sha256Hash: 'products-v1' } } },
      },
    ],
    ['a batch holding one other query', { method: 'POST', body: [{ query: trustedQuery }, { query: otherQuery }] }],
  ])('refuses %s before Apollo Server, with 403 and PERSISTED_QUERY_NOT_ALLOWED', (_case, request) => {
    const [middleware] = trusted().extension.graphqlMiddleware!;
    const { res, sent, next } = respond();
    middleware(request as Request, res, next);
    expect(sent).toEqual({ next: false, status: 403, body: refusedBody });
  });

  it('looks at the query string of a GET, not its body', () => {
    const [middleware] = trusted().extension.graphqlMiddleware!;
    const { res, sent, next } = respond();
    middleware(
      { method: 'GET', query: { query: otherQuery }, body: { query: trustedQuery } } as unknown as Request,
      res,
      next,
    );
    expect(sent.status).toBe(403);
  });
});

describe('a query sent with a hash that is not its own', () => {
  const mismatch = { errors: [{ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } }] };
  const hashOf = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });

  it.each([
    ['a POST', { method: 'POST', body: { query: otherQuery, extensions: hashOf(trustedQuery) } }],
    ['a GET (extensions as JSON text)', { method: 'GET', query: { query: otherQuery, extensions: JSON.stringify(hashOf(trustedQuery)) } }],
    ['a batch holding one', { method: 'POST', body: [{ query: trustedQuery, extensions: hashOf(trustedQuery) }, { query: otherQuery, extensions: hashOf(trustedQuery) }] }],
  ])('is refused in %s before Apollo Server, with 400 BAD_REQUEST (Apollo answers it without a code)', (_case, request) => {
    const [middleware] = apq().extension.graphqlMiddleware!;
    const { res, sent, next } = respond();
    middleware(request as unknown as Request, res, next);
    expect(sent).toEqual({ next: false, status: 400, body: mismatch });
  });

  it.each([
    ['a query with its own hash', { method: 'POST', body: { query: otherQuery, extensions: hashOf(otherQuery) } }],
    ['a hash alone', { method: 'POST', body: { extensions: hashOf(otherQuery) } }],
    ['a query without a hash', { method: 'GET', query: { query: otherQuery } }],
    ['extensions that are not JSON (Apollo Server refuses them)', { method: 'GET', query: { query: otherQuery, extensions: '{' } }],
    ['a body that is not an object', { method: 'POST', body: [null, 3] }],
  ])('lets %s through', (_case, request) => {
    const [middleware] = apq().extension.graphqlMiddleware!;
    const { res, sent, next } = respond();
    middleware(request as unknown as Request, res, next);
    expect(sent).toEqual({ next: true });
  });

  it('is refused on a trusted-documents gateway too, after the manifest check', () => {
    const [untrusted, mismatched] = trusted().extension.graphqlMiddleware!;
    const request = { method: 'POST', body: { query: trustedQuery, extensions: hashOf(otherQuery) } } as unknown as Request;
    const first = respond();
    untrusted!(request, first.res, first.next);
    expect(first.sent).toEqual({ next: true });
    const second = respond();
    mismatched!(request, second.res, second.next);
    expect(second.sent).toEqual({ next: false, status: 400, body: mismatch });
  });
});
