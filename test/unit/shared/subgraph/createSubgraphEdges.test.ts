/**
 * What a caller meets at a kit subgraph's edges, on its own port: the limits on HTTP and graphql-ws
 * (tokens, body size, representations), the one path it serves, the context on a socket, and
 * `/health/ready` saying "not ready" until it registers and from the moment it stops.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { connectBackends, type Backends } from '@trellis/kit/internal/backends';
import { loadConfig } from '@trellis/kit/internal/config';
import { createSubgraph, type Subgraph, type SubgraphOptions } from '@trellis/kit/internal/subgraph/createSubgraph';
import { recordingLogger } from '../../../support/recordingLogger';
import { FEDERATION_LINK } from '../../../../subgraphs/federation';

const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  type Query {
    book(id: ID!): Book
    tenant: String
  }
  type Book @key(fields: "id") {
    id: ID!
    title: String!
  }
`;
const resolvers = {
  Query: {
    book: (_: unknown, { id }: { id: string }) => ({ id, title: `Title ${id}` }),
    tenant: (_: unknown, __: unknown, context: { tenant?: string }) => context.tenant ?? null,
  },
  Book: { __resolveReference: ({ id }: { id: string }) => ({ id, title: `Title ${id}` }) },
};
const env = { LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '1000', SUBGRAPH_MAX_TOKENS: '40', SUBGRAPH_MAX_BODY_BYTES: '2000', SUBGRAPH_MAX_REPRESENTATIONS: '2' };
const tooManyTokens = `{ ${Array.from({ length: 20 }, (_, n) => `b${n}: book(id: "${n}") { id }`).join(' ')} }`;
const entities = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Book { title } } }';
const threeBooks = { r: [1, 2, 3].map((n) => ({ __typename: 'Book', id: String(n) })) };

describe('createSubgraph, at its edges', () => {
  let backends: Backends;
  const started: Subgraph[] = [];
  beforeEach(async () => {
    backends = await connectBackends(loadConfig(env), recordingLogger().logger);
  });
  afterEach(async () => {
    for (const subgraph of started.splice(0)) await subgraph.stop();
    await backends.close();
  });
  const start = async (options: Partial<SubgraphOptions> = {}) => {
    const subgraph = createSubgraph({ name: 'books', typeDefs, resolvers, config: loadConfig(env), backends, logger: recordingLogger().logger, ...options });
    started.push(subgraph);
    return { subgraph, runtime: await subgraph.start() };
  };
  const post = async (url: string, body: unknown) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } };
  };
  const ready = async (url: string) => (await fetch(new URL('/health/ready', url))).status;
  const overSocket = async (url: string, payload: { query: string; variables?: Record<string, unknown> }, connectionParams?: Record<string, unknown>) => {
    const client = createClient({ url: url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams });
    try {
      return await new Promise<{ results: unknown[]; errors?: unknown }>((resolve) => {
        const results: unknown[] = [];
        client.subscribe(payload, { next: (result) => results.push(result), error: (errors) => resolve({ results, errors }), complete: () => resolve({ results }) });
      });
    } finally {
      await client.dispose();
    }
  };

  it('refuses over HTTP a query over the token limit (TOO_MANY_TOKENS) and a body over SUBGRAPH_MAX_BODY_BYTES (413 in JSON)', async () => {
    const { runtime } = await start();
    const tokens = await post(runtime.url, { query: tooManyTokens });
    expect(tokens.body.errors?.map((error) => error.extensions)).toEqual([{ code: 'TOO_MANY_TOKENS', measured: 41, limit: 40 }]);
    const large = await post(runtime.url, { query: '{ book(id: "1") { id } }', padding: 'x'.repeat(2000) });
    expect(large.status).toBe(413);
    expect(large.body.errors?.map((error) => error.extensions?.code)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect((await post(runtime.url, { query: '{ book(id: "1") { id } }' })).body).toEqual({ data: { book: { id: '1' } } });
  });

  it('checks the limits on graphql-ws before running: too many representations are refused, two are served', async () => {
    const { runtime } = await start();
    const refused = await overSocket(runtime.url, { query: entities, variables: threeBooks });
    expect(refused.results).toEqual([]);
    expect((refused.errors as Array<{ extensions?: { code?: string } }>).map((error) => error.extensions?.code)).toEqual(['TOO_MANY_REPRESENTATIONS']);
    const served = await overSocket(runtime.url, { query: entities, variables: { r: threeBooks.r.slice(0, 2) } });
    expect(served).toEqual({ results: [{ data: { _entities: [{ title: 'Title 1' }, { title: 'Title 2' }] } }] });
  });

  it("builds a socket operation's context from its connection's headers", async () => {
    const { runtime } = await start({
      identify: (header) => (header('x-test-user') ? { id: header('x-test-user')!, scopes: [] } : null),
      context: (base) => ({ ...base, tenant: `tenant of ${base.user?.id ?? 'nobody'}` }),
    });
    expect(await overSocket(runtime.url, { query: '{ tenant }' }, { headers: { 'x-test-user': 'u7' } })).toEqual({ results: [{ data: { tenant: 'tenant of u7' } }] });
  });

  it('serves GraphQL on /graphql only, on HTTP and WebSocket', async () => {
    const { runtime } = await start();
    const elsewhere = new URL('/elsewhere', runtime.url);
    expect((await fetch(elsewhere, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ tenant }' }) })).status).toBe(404);
    const outcome = await new Promise<string>((resolve) => {
      const socket = new WebSocket(elsewhere.href.replace('http', 'ws'), 'graphql-transport-ws');
      socket.on('open', () => (socket.close(), resolve('open')));
      socket.on('unexpected-response', (_req, res) => (socket.terminate(), resolve(`refused ${res.statusCode}`)));
      socket.on('error', () => resolve('error'));
    });
    expect(outcome).toBe('refused 400');
  });

  it('is not ready while onStart runs, nor from the moment it stops (before it deregisters)', async () => {
    const seen: string[] = [];
    const { subgraph, runtime } = await start({ onStart: async (given) => void seen.push(`onStart ${await ready(given.url)}`) });
    seen.push(`serving ${await ready(runtime.url)}`);
    const deregister = backends.discovery.deregister.bind(backends.discovery);
    backends.discovery.deregister = async (id) => {
      seen.push(`deregistering ${await ready(runtime.url)}`);
      await deregister(id);
    };
    await subgraph.stop();
    expect(seen).toEqual(['onStart 503', 'serving 200', 'deregistering 503']);
  });
});
