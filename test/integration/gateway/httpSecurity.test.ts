/** Production mode (no introspection, no internals in errors), CSRF prevention and the CORS allow-list. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Env } from '@trellis/kit/internal/config';
import type { Subgraph, SubgraphFactory } from '@trellis/kit';
import { composeSupergraph } from '../../../gateway/supergraph/compose';
import { FEDERATION_LINK } from '../../../subgraphs/federation';
import { postGraphQL } from '../../support/graphql';
import { startGateway, startSubgraph, type InProcessGateway } from '../../support/inProcess';

const faultySdl = `
  ${FEDERATION_LINK}
  type Query {
    boom: String
    refused: String
  }
`;

/** A subgraph whose `boom` fails unexpectedly (leaking a secret in its message) and `refused` fails on purpose. */
const faultySubgraph: SubgraphFactory = () => ({
  name: 'faulty',
  typeDefs: faultySdl,
  resolvers: {
    Query: {
      boom: () => {
        throw new Error('connect ECONNREFUSED postgres://admin:hunter2@10.0.0.7/orders');
      },
      refused: () => {
        const error = new Error('not for you') as Error & { extensions: Record<string, unknown> };
        error.extensions = { code: 'FORBIDDEN' };
        throw error;
      },
    },
  },
});

describe('gateway http security', () => {
  let faulty: Subgraph;
  let supergraphPath: string;
  const gateways: InProcessGateway[] = [];
  const gatewayWith = async (env: Env) => {
    const gateway = await startGateway({ SUPERGRAPH_PATH: supergraphPath, ...env });
    gateways.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    faulty = await startSubgraph(faultySubgraph, {});
    const composed = composeSupergraph([{ name: 'faulty', sdl: faultySdl, url: faulty.url }]);
    if (!composed.ok) throw new Error(composed.errors.join('\n'));
    supergraphPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'trellis-security-')), 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);
  });

  afterAll(async () => {
    for (const gateway of gateways) await gateway.stop();
    await faulty?.stop();
  });

  describe('production mode', () => {
    it('refuses introspection', async () => {
      const gateway = await gatewayWith({ NODE_ENV: 'production' });
      // A validation error: 400 as application/graphql-response+json (200 as application/json, the legacy type).
      const answer = await postGraphQL(gateway.url, '{ __schema { types { name } } }', { headers: { accept: 'application/graphql-response+json' } });
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(answer.body.errors?.[0].message).toMatch(/introspection is not allowed/i);
      expect(JSON.stringify(answer.body)).not.toContain('stacktrace');
    });

    it('masks an unexpected error, keeps a deliberate one, and sends no stack trace', async () => {
      const gateway = await gatewayWith({ NODE_ENV: 'production' });
      const answer = await postGraphQL(gateway.url, '{ boom refused }');
      const text = JSON.stringify(answer.body);
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('stacktrace');
      expect(text).not.toContain('serviceName');
      expect(answer.body.errors).toEqual(
        expect.arrayContaining([
          { message: 'internal error', path: ['boom'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
          expect.objectContaining({ message: 'not for you', extensions: { code: 'FORBIDDEN' } }),
        ]),
      );
      const broken = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
      expect(broken.status).toBe(400);
      expect(await broken.text()).not.toMatch(/stack|at .*\.js/);
    });

    it('keeps introspection and details in development, but never an express stack trace', async () => {
      const gateway = await gatewayWith({ NODE_ENV: 'development' });
      expect((await postGraphQL(gateway.url, '{ __schema { queryType { name } } }')).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      const broken = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
      expect(broken.status).toBe(400);
      expect(await broken.json()).toEqual({ errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
    });
  });

  describe('CSRF prevention', () => {
    it('refuses a simple GET without a preflight-forcing header, and any form or text POST (415: a POST body is JSON)', async () => {
      const gateway = await gatewayWith({});
      const get = await fetch(`${gateway.url}?query=${encodeURIComponent('{ refused }')}`);
      expect(get.status).toBe(400);
      expect(await get.text()).toMatch(/Cross-Site Request Forgery/);
      for (const contentType of ['application/x-www-form-urlencoded', 'text/plain']) {
        // Refused before the body is read, with or without a preflight-forcing header (graphqlOverHttp.ts).
        for (const preflight of [{}, { 'apollo-require-preflight': 'true' }]) {
          const post = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': contentType, ...preflight }, body: 'query={ refused }' });
          expect(post.status).toBe(415);
          expect(((await post.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
        }
      }
      const preflighted = await fetch(`${gateway.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'apollo-require-preflight': 'true' } });
      expect(preflighted.status).toBe(200);
    });
  });

  describe('CORS', () => {
    const preflight = (url: string, origin: string) =>
      fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

    it('allows listed origins only', async () => {
      const gateway = await gatewayWith({ CORS_ORIGINS: 'https://shop.example.com, https://admin.example.com' });
      const allowed = await preflight(gateway.url, 'https://shop.example.com');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
      expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');

      const denied = await preflight(gateway.url, 'https://evil.example.net');
      expect(denied.status).toBe(403);
      expect(denied.headers.get('access-control-allow-origin')).toBeNull();
      const deniedPost = await postGraphQL(gateway.url, '{ __typename }', { headers: { origin: 'https://evil.example.net' } });
      expect(deniedPost.headers.get('access-control-allow-origin')).toBeNull();
      const allowedPost = await postGraphQL(gateway.url, '{ __typename }', { headers: { origin: 'https://admin.example.com' } });
      expect(allowedPost.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
      expect(allowedPost.headers.get('access-control-expose-headers')?.split(', ')).toEqual(
        expect.arrayContaining(['ratelimit', 'ratelimit-policy', 'retry-after', 'x-correlation-id']),
      );
      expect(deniedPost.headers.get('access-control-expose-headers')).toBeNull();
      expect((await preflight(gateway.url, 'http://localhost:3000')).status).toBe(403);
    });

    it('allows localhost in development and nothing in production by default', async () => {
      const development = await gatewayWith({ NODE_ENV: 'development' });
      expect((await preflight(development.url, 'http://localhost:5173')).headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect((await preflight(development.url, 'https://shop.example.com')).status).toBe(403);
      const production = await gatewayWith({ NODE_ENV: 'production' });
      expect((await preflight(production.url, 'http://localhost:5173')).status).toBe(403);
    });
  });
});
