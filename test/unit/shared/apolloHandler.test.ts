/**
 * Apollo Server behind the shared express handler (shared/http/apolloHandler.ts), on a real HTTP
 * server: what a client sends reaches Apollo (method, headers, query string, body), what Apollo
 * answers reaches the client (status, headers, body, streamed parts), and a failure reaches
 * express's error handler.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { apolloHandler } from '@trellis/kit/internal/http';

const typeDefs = `
  type Query { echo(word: String!): String!, header(name: String!): String, slow: String! }
`;

interface Context {
  header: (name: string) => string | undefined;
}

describe('apolloHandler', () => {
  let apollo: ApolloServer<Context>;
  let server: Server;
  let base: string;
  const failures: string[] = [];

  beforeAll(async () => {
    apollo = new ApolloServer<Context>({
      typeDefs,
      resolvers: {
        Query: {
          echo: (_: unknown, { word }: { word: string }) => word,
          header: (_: unknown, { name }: { name: string }, context: Context) => context.header(name) ?? null,
          slow: async () => {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return 'later';
          },
        },
      },
    });
    await apollo.start();
    const app = express();
    const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
      failures.push(error.message);
      res.status(500).json({ failed: error.message });
    };
    app.use('/graphql', express.json(), apolloHandler(apollo, async (req) => ({ header: (name) => req.header(name) })));
    app.use('/unparsed', apolloHandler(apollo, async () => ({ header: () => undefined })));
    app.use(onError);
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await apollo?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('answers a POST with Apollo`s status, headers and body, and no ETag', async () => {
    const response = await post({ query: 'query E($w: String!) { echo(word: $w) }', variables: { w: 'hi' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/graphql-response\+json|^application\/json/);
    expect(response.headers.get('etag')).toBeNull();
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ data: { echo: 'hi' } });
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(text));
  });

  it('passes the query string of a GET to Apollo', async () => {
    const query = encodeURIComponent('{ echo(word: "from-get") }');
    const response = await fetch(`${base}/graphql?query=${query}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { echo: 'from-get' } });
    const none = await fetch(`${base}/graphql`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(none.status).toBe(400);
  });

  it('passes every request header, a repeated one joined with a comma', async () => {
    const response = await post({ query: '{ a: header(name: "x-tenant") b: header(name: "x-missing") }' }, { 'x-tenant': 'acme' });
    expect(await response.json()).toEqual({ data: { a: 'acme', b: null } });
    const joined = await new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({ query: '{ header(name: "x-tag") }' });
      const request = httpRequest(`${base}/graphql`, { method: 'POST', headers: ['host', '127.0.0.1', 'content-type', 'application/json', 'x-tag', 'a', 'x-tag', 'b'] as unknown as Record<string, string> }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () => resolve(text));
      });
      request.on('error', reject);
      request.end(body);
    });
    expect(JSON.parse(joined)).toEqual({ data: { header: 'a, b' } });
  });

  it('answers Apollo`s own refusals with their status (a GET without a preflight header)', async () => {
    const response = await fetch(`${base}/graphql?query=${encodeURIComponent('{ echo(word: "x") }')}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF|preflight/i);
  });

  it('streams an answer Apollo gives in parts (incremental delivery), part by part, then ends it', async () => {
    // graphql 16 has no @defer, so Apollo never streams here: a server that does stands in for it.
    const parts = ['--part\r\n{"a":1}', '--part\r\n{"b":2}', '--part--\r\n'];
    const streaming = {
      assertStarted: () => undefined,
      executeHTTPGraphQLRequest: async () => ({
        status: 207,
        headers: new HeaderMap([['content-type', 'multipart/mixed; boundary="part"']]),
        body: { kind: 'chunked' as const, asyncIterator: (async function* () { yield* parts; })() },
      }),
    } as unknown as ApolloServer<Context>;
    const app = express();
    app.use(express.json(), apolloHandler(streaming, async () => ({ header: () => undefined })));
    const streamingServer = createServer(app);
    await new Promise<void>((resolve) => streamingServer.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(streamingServer.address() as AddressInfo).port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(207);
      expect(response.headers.get('content-type')).toBe('multipart/mixed; boundary="part"');
      expect(await response.text()).toBe(parts.join(''));
    } finally {
      await new Promise((resolve) => streamingServer.close(resolve));
    }
  });

  it('hands a request with no parsed body to the error handler, naming the missing parser', async () => {
    const response = await fetch(`${base}/unparsed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ echo(word: \\"x\\") }"}' });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ failed: expect.stringMatching(/req\.body is not set.*express\.json/) });
    expect(failures).toEqual([expect.stringMatching(/req\.body is not set/)]);
  });
});
